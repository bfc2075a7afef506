package capture

import (
	"bytes"
	"io"
	"testing"
)

// allocFiles returns in-memory captures with more packets than the
// allocation tests read: pcap (micro, big-endian nano) and pcapng (EPB with
// flags, OPB, SPB, skipped blocks, two interfaces, a base-2 resolution) with
// some records bigger than a small read buffer.
func allocFiles() map[string][]byte {
	const n = 1500
	sizes := []int{60, 1514, 9000, 40}
	p := newPcapFile(le, pcapMagicMicro, 2, 4, 65535, 1)
	pb := newPcapFile(be, pcapMagicNano, 2, 4, 65535, 1)
	ng := &ngFile{}
	ng.shb(le, 1, 0).idb(LinkEthernet, 0, ngOption{ngOptIfName, []byte("eth0")})
	ng.idb(LinkRaw, 0, ngOption{ngOptIfTsresol, []byte{0x80 | 20}})
	for i := range n {
		sz := sizes[i%len(sizes)]
		data := payload(byte(i), sz)
		p.record(uint32(i), uint32(i), uint32(sz), uint32(sz), data)
		pb.record(uint32(i), uint32(i), uint32(sz), uint32(sz), data)
		switch i % 4 {
		case 0:
			ng.epb(0, uint64(i), uint32(sz), data, ng.u32opt(ngOptFlags, 1))
		case 1:
			ng.epb(1, uint64(i)<<20, uint32(sz), data)
		case 2:
			ng.opb(1, uint64(i), uint32(sz), data)
		case 3:
			ng.spb(uint32(sz), data)
			ng.block(5, make([]byte, 16))
		}
	}
	return map[string][]byte{"pcap": p.buf, "pcap-be-nano": pb.buf, "pcapng": ng.buf}
}

// TestNoAllocs: after warm-up, NextPacket allocates nothing, whether the
// record is handed out from the read buffer or from the owned buffer.
func TestNoAllocs(t *testing.T) {
	for name, file := range allocFiles() {
		for _, bufSize := range []int{DefaultFileBufferSize, minFileBufferSize} {
			src, err := Open(bytes.NewReader(file), name, WithBufferSize(bufSize))
			if err != nil {
				t.Fatal(err)
			}
			for range 8 { // warm-up: the owned buffer reaches its size
				if _, _, err := src.NextPacket(); err != nil {
					t.Fatal(err)
				}
			}
			var err2 error
			allocs := testing.AllocsPerRun(1000, func() {
				if _, _, err := src.NextPacket(); err != nil {
					err2 = err
				}
			})
			if err2 != nil {
				t.Fatalf("%s: %v", name, err2)
			}
			if allocs != 0 {
				t.Errorf("%s, buffer %d: %v allocs per NextPacket, want 0", name, bufSize, allocs)
			}
			_ = src.Close()
		}
	}
}

// TestGzipAllocs: through gzip, the decompressor allocates Huffman tables
// per deflate block (inside klauspost/compress), never per packet: over the
// corpus file it stays below 1 allocation per 50 packets.
func TestGzipAllocs(t *testing.T) {
	gz := readTestFile(t, "goprobe_default.pcap.gz")
	src, err := Open(bytes.NewReader(gz), "gz")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	const perRun = 100
	var err2 error
	allocs := testing.AllocsPerRun(300, func() {
		for range perRun {
			if _, _, err := src.NextPacket(); err != nil && err != io.EOF {
				err2 = err
			}
		}
	})
	if err2 != nil {
		t.Fatal(err2)
	}
	if perPkt := allocs / perRun; perPkt > 0.02 {
		t.Errorf("%v allocs per packet through gzip, want <= 0.02", perPkt)
	}
}
