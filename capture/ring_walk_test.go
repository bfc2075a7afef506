package capture

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// mockFromBlocks lays out one block per element of blocks (an empty
// element makes an empty block, which the kernel may hand over after a
// timeout) and returns the mock reading them.
func mockFromBlocks(t testing.TB, blockSize uint32, blocks [][][]byte) *MockRing {
	t.Helper()
	w := mockWriter{blockSize: blockSize}
	for _, pkts := range blocks {
		w.openBlock()
		for i, p := range pkts {
			err := w.add(mockPacket{data: p, wireLen: uint32(len(p)), ts: int64(i), hatype: 1, macLen: 14})
			if err != nil {
				t.Fatal(err)
			}
		}
		w.closeBlock()
	}
	m := &MockRing{ifaces: []Interface{{Name: "mock", Link: LinkEthernet}}}
	if err := m.rd.initRing(w.mem, w.blockSize, w.nblocks, LinkEthernet); err != nil {
		t.Fatal(err)
	}
	return m
}

// walkResult reads m to io.EOF and returns the first byte of each packet
// (the packets of these tests are tagged by it) with -1 for each error.
func walkResult(t *testing.T, m *MockRing) (got []int, errs []error) {
	t.Helper()
	for range 1000 {
		data, _, err := m.NextPacket()
		switch {
		case errors.Is(err, io.EOF):
			return got, errs
		case err != nil:
			got, errs = append(got, -1), append(errs, err)
		default:
			got = append(got, int(data[0]))
		}
	}
	t.Fatal("no io.EOF")
	return nil, nil
}

// tagged returns a packet of n bytes whose first byte is tag.
func tagged(tag byte, n int) []byte {
	b := make([]byte, n)
	b[0] = tag
	return b
}

func TestRingWalkEmptyBlocks(t *testing.T) {
	m := mockFromBlocks(t, 1024, [][][]byte{
		{tagged(1, 60)}, {}, {tagged(2, 60), tagged(3, 100)}, {}, {},
	})
	got, errs := walkResult(t, m)
	if len(errs) != 0 || len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Errorf("got %v %v, want [1 2 3]", got, errs)
	}
	for i := range m.rd.numBlocks {
		if s := blockStatus(m.rd.block(i)).Load(); s != tpStatusKernel {
			t.Errorf("block %d status %d after reading, want TP_STATUS_KERNEL", i, s)
		}
	}
}

func TestRingWalkSkipsOutgoingOnLoopback(t *testing.T) {
	frames := mockTestFrames(30) // every third is outbound
	m, err := NewMockRing(frames, MockOptions{Link: LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	m.rd.skipOutgoing = true
	_, infos := mockReadAll(t, m)
	if len(infos) != 20 {
		t.Errorf("%d packets, want the 20 inbound ones", len(infos))
	}
	for _, in := range infos {
		if in.Dir != DirInbound {
			t.Errorf("outbound packet delivered: %+v", in)
		}
	}
}

// TestRingWalkCorrupt damages block 0 of three two-packet blocks in each way
// the walker checks, and wants: the good packets before the damage, one
// *RingError naming block 0, then blocks 1 and 2 intact.
func TestRingWalkCorrupt(t *testing.T) {
	ne := binary.NativeEndian
	const bs = 1024
	first := uint32(tpBlockDescLen)
	second := first + tpAlignUp(82+60, 8)
	cases := []struct {
		name   string
		damage func(b []byte)
		before int // good packets of block 0 read before the error
	}{
		{"not a TPACKET_V3 block", func(b []byte) { ne.PutUint32(b[tpbVersion:], 1) }, 0},
		{"first packet offset inside the descriptor", func(b []byte) { ne.PutUint32(b[tpbFirstPkt:], 40) }, 0},
		{"first packet offset misaligned", func(b []byte) { ne.PutUint32(b[tpbFirstPkt:], 52) }, 0},
		{"first packet offset past the block", func(b []byte) { ne.PutUint32(b[tpbFirstPkt:], bs-16) }, 0},
		{"blk_len past the block", func(b []byte) { ne.PutUint32(b[tpbBlkLen:], bs+8) }, 0},
		{"num_pkts cannot fit", func(b []byte) { ne.PutUint32(b[tpbNumPkts:], 1000) }, 0},
		{"num_pkts beyond the chain", func(b []byte) { ne.PutUint32(b[tpbNumPkts:], 3) }, 1},
		{"next offset zero mid-chain", func(b []byte) { ne.PutUint32(b[first+tphNext:], 0) }, 0},
		{"next offset misaligned", func(b []byte) { ne.PutUint32(b[first+tphNext:], second-first+4) }, 0},
		{"next offset overlaps the frame", func(b []byte) { ne.PutUint32(b[first+tphNext:], 64) }, 0},
		{"next offset past the block", func(b []byte) { ne.PutUint32(b[first+tphNext:], bs) }, 0},
		{"next offset wraps", func(b []byte) { ne.PutUint32(b[first+tphNext:], 0xfffffff8) }, 0},
		{"tp_mac inside the header", func(b []byte) { ne.PutUint16(b[first+tphMac:], 40) }, 0},
		{"snaplen past the block", func(b []byte) { ne.PutUint32(b[second+tphSnapLen:], 1<<31) }, 1},
		{"snaplen above tp_len", func(b []byte) { ne.PutUint32(b[second+tphLen:], 59) }, 1},
		{"tp_mac past the block", func(b []byte) { ne.PutUint16(b[second+tphMac:], 0xffff) }, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mockFromBlocks(t, bs, [][][]byte{
				{tagged(1, 60), tagged(2, 60)},
				{tagged(3, 60), tagged(4, 60)},
				{tagged(5, 60), tagged(6, 60)},
			})
			c.damage(m.rd.block(0))
			got, errs := walkResult(t, m)
			want := []int{1, 2}[:c.before]
			want = append(want, -1, 3, 4, 5, 6)
			if len(got) != len(want) {
				t.Fatalf("got %v, want %v (errors %v)", got, want, errs)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("got %v, want %v (errors %v)", got, want, errs)
				}
			}
			var re *RingError
			if !errors.Is(errs[0], ErrRingCorrupt) || !errors.As(errs[0], &re) || re.Block != 0 {
				t.Errorf("error %v: want a *RingError for block 0 wrapping ErrRingCorrupt", errs[0])
			}
			t.Log(errs[0])
		})
	}
}

func TestRingReaderInitRejects(t *testing.T) {
	var r ringReader
	mem := mockAlloc(4096)
	if err := r.initRing(mem, 1024, 5, LinkEthernet); !errors.Is(err, ErrRingOptions) {
		t.Errorf("size mismatch: %v", err)
	}
	if err := r.initRing(mem[4:4+2048], 1024, 2, LinkEthernet); !errors.Is(err, ErrRingOptions) {
		t.Errorf("misaligned memory: %v", err)
	}
	if err := r.initRing(mem[:100], 100, 1, LinkEthernet); !errors.Is(err, ErrRingOptions) {
		t.Errorf("tiny block: %v", err)
	}
}

// FuzzRingBlock feeds arbitrary bytes to the walker as a block the kernel
// handed over: it must return packets inside the block or errors, never
// panic or loop.
func FuzzRingBlock(f *testing.F) {
	seed := mockFromBlocks(f, 512, [][][]byte{{tagged(1, 60), tagged(2, 100), tagged(3, 20)}})
	f.Add(seed.rd.block(0))
	f.Add(make([]byte, 512))
	f.Fuzz(func(t *testing.T, blk []byte) {
		const bs = 512
		mem := mockAlloc(bs)
		copy(mem, blk)
		var r ringReader
		if err := r.initRing(mem, bs, 1, LinkEthernet); err != nil {
			t.Fatal(err)
		}
		blockStatus(mem).Store(tpStatusUser)
		for n := 0; ; n++ {
			if n > bs {
				t.Fatal("walker does not stop")
			}
			data, info, ready, err := r.next()
			if !ready {
				break
			}
			if err == nil && (len(data) != int(info.CapLen) || info.CapLen > info.OrigLen) {
				t.Fatalf("packet %d: %d bytes, CapLen %d, OrigLen %d", n, len(data), info.CapLen, info.OrigLen)
			}
		}
	})
}
