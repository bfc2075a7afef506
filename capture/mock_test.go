package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// mockReadAll reads r until io.EOF and returns copies of the packets.
func mockReadAll(t *testing.T, r Source) ([][]byte, []PacketInfo) {
	t.Helper()
	var datas [][]byte
	var infos []PacketInfo
	for {
		data, info, err := r.NextPacket()
		if errors.Is(err, io.EOF) {
			return datas, infos
		}
		if err != nil {
			t.Fatalf("packet %d: %v", len(infos), err)
		}
		datas = append(datas, bytes.Clone(data))
		infos = append(infos, info)
		if len(infos) > 1e6 {
			t.Fatal("no io.EOF after 1e6 packets")
		}
	}
}

// mockTestFrames returns a mix of frames with distinct sizes and timestamps.
func mockTestFrames(n int) []MockFrame {
	frames := make([]MockFrame, n)
	for i := range frames {
		frames[i] = MockFrame{
			Data:      tfEth(bpfEtherIPv4, tfIPv4(protoUDP, 0, tfUDP(uint16(1000+i), 53, i*7%300))),
			Timestamp: 1_700_000_000_000_000_000 + int64(i)*1_000_003,
		}
		if i%3 == 1 {
			frames[i].Dir = DirOutbound
		}
	}
	return frames
}

func TestMockRingRoundTrip(t *testing.T) {
	frames := mockTestFrames(50)
	frames[7].OrigLen = 9000 // snapped on capture
	m, err := NewMockRing(frames, MockOptions{Link: LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	datas, infos := mockReadAll(t, m)
	if len(infos) != len(frames) || m.Len() != len(frames) {
		t.Fatalf("read %d packets, Len %d, want %d", len(infos), m.Len(), len(frames))
	}
	for i, f := range frames {
		want := PacketInfo{
			Timestamp: f.Timestamp, CapLen: uint32(len(f.Data)), OrigLen: uint32(len(f.Data)),
			Link: LinkEthernet, Dir: DirInbound,
		}
		if f.OrigLen != 0 {
			want.OrigLen = f.OrigLen
		}
		if f.Dir == DirOutbound {
			want.Dir = DirOutbound
		}
		if infos[i] != want {
			t.Errorf("packet %d: info %+v, want %+v", i, infos[i], want)
		}
		if !bytes.Equal(datas[i], f.Data) {
			t.Errorf("packet %d: data differs", i)
		}
	}
	if _, _, err := m.NextPacket(); !errors.Is(err, io.EOF) {
		t.Errorf("after the end: %v, want io.EOF", err)
	}
	m.Close()
	if _, _, err := m.NextPacket(); !errors.Is(err, ErrRingClosed) {
		t.Errorf("after Close: %v, want ErrRingClosed", err)
	}
	if ifs := m.Interfaces(); len(ifs) != 1 || ifs[0].Link != LinkEthernet || ifs[0].TsResolution != 1e9 {
		t.Errorf("Interfaces = %+v", ifs)
	}
}

// TestMockRingLayout checks the bytes against the kernel's layout rules
// (ring.go): descriptor fields, tp_mac/tp_net, next-offset chain.
func TestMockRingLayout(t *testing.T) {
	ne := binary.NativeEndian
	for _, c := range []struct {
		link          LinkType
		frame         []byte
		wantMac, wNet uint16
	}{
		{LinkEthernet, tfEth(bpfEtherIPv4, tfIPv4(protoTCP, 0, tfTCP(1, 2, 11))), 82, 96},
		{LinkRaw, tfIPv6(protoTCP, nil, tfTCP(1, 2, 3)), 96, 96},
	} {
		frames := []MockFrame{{Data: c.frame}, {Data: c.frame}, {Data: c.frame}}
		m, err := NewMockRing(frames, MockOptions{Link: c.link, BlockSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		b := m.rd.block(0)
		if v := ne.Uint32(b[tpbVersion:]); v != tpVersion3 {
			t.Errorf("version %d", v)
		}
		if n, first := ne.Uint32(b[tpbNumPkts:]), ne.Uint32(b[tpbFirstPkt:]); n != 3 || first != 48 {
			t.Errorf("num_pkts %d offset_to_first_pkt %d, want 3, 48", n, first)
		}
		step := tpAlignUp(uint32(c.wantMac)+uint32(len(c.frame)), 8)
		if l := ne.Uint32(b[tpbBlkLen:]); l != 48+3*step {
			t.Errorf("blk_len %d, want %d", l, 48+3*step)
		}
		off := uint32(48)
		for i := range 3 {
			h := b[off:]
			mac, net := ne.Uint16(h[tphMac:]), ne.Uint16(h[tphNet:])
			if mac != c.wantMac || net != c.wNet || net%16 != 0 {
				t.Errorf("link %d packet %d: tp_mac %d tp_net %d at %d", c.link, i, mac, net, off)
			}
			next := ne.Uint32(h[tphNext:])
			if i < 2 && next != step || i == 2 && next != 0 {
				t.Errorf("packet %d: tp_next_offset %d, want %d (0 for the last)", i, next, step)
			}
			if !bytes.Equal(h[mac:uint32(mac)+uint32(len(c.frame))], c.frame) {
				t.Errorf("packet %d: frame bytes differ", i)
			}
			off += next
		}
		if s := blockStatus(b).Load(); s != tpStatusKernel {
			t.Errorf("unread block status %d, want TP_STATUS_KERNEL", s)
		}
		mockReadAll(t, m)
		if s := blockStatus(b).Load(); s != tpStatusKernel {
			t.Errorf("read block status %d, want it returned (TP_STATUS_KERNEL)", s)
		}
	}
}

func TestMockRingMultipleBlocks(t *testing.T) {
	frames := mockTestFrames(200)
	for _, opts := range []MockOptions{
		{Link: LinkEthernet, BlockSize: 512},
		{Link: LinkEthernet, BlockSize: 2048, MaxPacketsPerBlock: 3},
		{Link: LinkEthernet, BlockSize: 4096, MaxPacketsPerBlock: 1},
	} {
		m, err := NewMockRing(frames, opts)
		if err != nil {
			t.Fatal(err)
		}
		if m.rd.numBlocks < 10 {
			t.Errorf("%+v: %d blocks, want many", opts, m.rd.numBlocks)
		}
		datas, infos := mockReadAll(t, m)
		if len(datas) != len(frames) {
			t.Fatalf("%+v: read %d, want %d", opts, len(datas), len(frames))
		}
		for i := range frames {
			if !bytes.Equal(datas[i], frames[i].Data) || infos[i].Timestamp != frames[i].Timestamp {
				t.Fatalf("%+v: packet %d differs", opts, i)
			}
		}
	}
}

func TestMockRingBigFrameCutToBlock(t *testing.T) {
	big := tfEth(bpfEtherIPv4, tfIPv4(protoUDP, 0, tfUDP(1, 2, 3000)))
	m, err := NewMockRing([]MockFrame{{Data: big}}, MockOptions{Link: LinkEthernet, BlockSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	data, info, err := m.NextPacket()
	if err != nil {
		t.Fatal(err)
	}
	// max_frame_len = block - 48, minus tp_mac 82.
	if want := 1024 - 48 - 82; len(data) != want || info.CapLen != uint32(want) || info.OrigLen != uint32(len(big)) {
		t.Errorf("stored %d (CapLen %d, OrigLen %d), want %d of %d", len(data), info.CapLen, info.OrigLen, want, len(big))
	}
}

func TestMockRingVLANOffload(t *testing.T) {
	ip := tfIPv4(protoTCP, 0, tfTCP(40000, 22, 100))
	tagged := tfEth(bpfEtherIPv4, ip, bpfEtherVLAN)
	qinq := tfEth(bpfEtherIPv4, ip, bpfEtherQinQ, bpfEtherVLAN)
	plain := tfEth(bpfEtherIPv4, ip)
	frames := []MockFrame{{Data: tagged}, {Data: qinq}, {Data: plain}}
	for _, filter := range []bool{false, true} {
		m, err := NewMockRing(frames, MockOptions{Link: LinkEthernet, OffloadVLAN: true, Filter: filter})
		if err != nil {
			t.Fatal(err)
		}
		datas, infos := mockReadAll(t, m)
		if len(infos) != 3 {
			t.Fatalf("filter %v: %d packets", filter, len(infos))
		}
		wantData := [][]byte{plain, tfEth(bpfEtherIPv4, ip, bpfEtherVLAN), plain}
		wantData[1][14+1] = 101 // inner tag's TCI stays in the frame
		for i := range 3 {
			want := wantData[i]
			if filter {
				want = want[:min(len(want), 14+4*mockBoolInt(i == 1)+20+FilterTransportBytes)]
			}
			if !bytes.Equal(datas[i], want) {
				t.Errorf("filter %v packet %d: data %x, want %x", filter, i, datas[i], want)
			}
			if infos[i].OrigLen != uint32(len(frames[i].Data)) {
				t.Errorf("filter %v packet %d: OrigLen %d, want the wire length %d",
					filter, i, infos[i].OrigLen, len(frames[i].Data))
			}
			if infos[i].VLANOffloaded != (i < 2) {
				t.Errorf("filter %v packet %d: VLANOffloaded %v", filter, i, infos[i].VLANOffloaded)
			}
		}
		// The tag itself is in the packet header.
		h := m.rd.block(0)[48:]
		if tci, tpid := binary.NativeEndian.Uint32(h[tphVLANTCI:]), binary.NativeEndian.Uint16(h[tphVLANTPID:]); tci != 100 || tpid != bpfEtherVLAN {
			t.Errorf("tp_vlan_tci %d tp_vlan_tpid %#x, want 100, 0x8100", tci, tpid)
		}
	}
}

// TestMockRingFromRingPackets feeds packets as a Ring returns them (tag
// already offloaded) back into a mock: the flag and lengths survive.
func TestMockRingFromRingPackets(t *testing.T) {
	plain := tfEth(bpfEtherIPv4, tfIPv4(protoTCP, 0, tfTCP(1, 2, 10)))
	frames := []MockFrame{{Data: plain, OrigLen: uint32(len(plain)) + 4, VLANOffloaded: true}}
	m, err := NewMockRing(frames, MockOptions{Link: LinkEthernet, OffloadVLAN: true})
	if err != nil {
		t.Fatal(err)
	}
	_, infos := mockReadAll(t, m)
	if len(infos) != 1 || !infos[0].VLANOffloaded || infos[0].OrigLen != uint32(len(plain))+4 {
		t.Errorf("infos %+v", infos)
	}
	frames[0].OrigLen = 0
	if _, err := NewMockRing(frames, MockOptions{Link: LinkEthernet}); !errors.Is(err, ErrRingOptions) {
		t.Errorf("offloaded frame without OrigLen: %v, want ErrRingOptions", err)
	}
}

func mockBoolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestMockRingFilter(t *testing.T) {
	v4 := tfEth(bpfEtherIPv4, tfIPv4(protoTCP, 0, tfTCP(1, 2, 500)))
	v6 := tfEth(bpfEtherIPv6, tfIPv6(protoUDP, []tfExt{{0, 8}}, tfUDP(1, 2, 500)))
	frames := []MockFrame{
		{Data: tfEth(0x0806, tfARP())},
		{Data: v4, Timestamp: 1},
		{Data: tfEth(0x88cc, make([]byte, 50))},
		{Data: v6, Timestamp: 2, Dir: DirOutbound},
	}
	m, err := NewMockRing(frames, MockOptions{Link: LinkEthernet, Filter: true})
	if err != nil {
		t.Fatal(err)
	}
	datas, infos := mockReadAll(t, m)
	if len(infos) != 2 || m.Len() != 2 {
		t.Fatalf("%d packets (Len %d), want the 2 IP ones", len(infos), m.Len())
	}
	if !bytes.Equal(datas[0], v4[:48]) || infos[0].CapLen != 48 || infos[0].OrigLen != uint32(len(v4)) {
		t.Errorf("ipv4: CapLen %d OrigLen %d", infos[0].CapLen, infos[0].OrigLen)
	}
	if !bytes.Equal(datas[1], v6[:14+48+14]) || infos[1].OrigLen != uint32(len(v6)) || infos[1].Dir != DirOutbound {
		t.Errorf("ipv6: CapLen %d OrigLen %d Dir %d", infos[1].CapLen, infos[1].OrigLen, infos[1].Dir)
	}
	if _, err := NewMockRing(nil, MockOptions{Link: LinkSLL, Filter: true}); !errors.Is(err, ErrUnsupportedLink) {
		t.Errorf("filter on SLL: %v, want ErrUnsupportedLink", err)
	}
}

func TestMockRingLoop(t *testing.T) {
	frames := mockTestFrames(30)
	m, err := NewMockRing(frames, MockOptions{Link: LinkEthernet, BlockSize: 1024, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 * len(frames) {
		data, info, err := m.NextPacket()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		f := frames[i%len(frames)]
		if !bytes.Equal(data, f.Data) || info.Timestamp != f.Timestamp {
			t.Fatalf("packet %d: not frame %d", i, i%len(frames))
		}
	}
	empty, err := NewMockRing(nil, MockOptions{Link: LinkEthernet, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := empty.NextPacket(); !errors.Is(err, io.EOF) {
		t.Errorf("empty looping mock: %v, want io.EOF", err)
	}
}

func TestMockRingAppendPacket(t *testing.T) {
	frames := mockTestFrames(3)
	m, err := NewMockRing(frames, MockOptions{Link: LinkEthernet})
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for i := range frames {
		var info PacketInfo
		start := len(buf)
		if buf, info, err = m.AppendPacket(buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf[start:], frames[i].Data) || info.CapLen != uint32(len(frames[i].Data)) {
			t.Errorf("packet %d differs", i)
		}
	}
	if _, _, err := m.AppendPacket(buf); !errors.Is(err, io.EOF) {
		t.Errorf("end: %v", err)
	}
}

func TestMockOptionsRejected(t *testing.T) {
	for _, o := range []MockOptions{
		{BlockSize: 100}, {BlockSize: 4100}, {BlockSize: maxRingBlockSize + 8}, {MaxPacketsPerBlock: -1},
	} {
		if _, err := NewMockRing(nil, o); !errors.Is(err, ErrRingOptions) {
			t.Errorf("%+v: %v, want ErrRingOptions", o, err)
		}
	}
}

func TestMockRingNoAllocs(t *testing.T) {
	m, err := NewMockRing(mockTestFrames(100), MockOptions{Link: LinkEthernet, BlockSize: 4096, Loop: true, Filter: true})
	if err != nil {
		t.Fatal(err)
	}
	var sink uint32
	allocs := testing.AllocsPerRun(1000, func() {
		data, info, err := m.NextPacket()
		if err != nil {
			t.Fatal(err)
		}
		sink += info.CapLen + uint32(len(data))
	})
	if allocs != 0 {
		t.Errorf("NextPacket allocates %.1f times per packet, want 0", allocs)
	}
	_ = sink
}
