package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

var (
	le = binary.LittleEndian
	be = binary.BigEndian
)

// TestPcapVariants reads hand-built pcap files in both byte orders and both
// timestamp resolutions and checks every field of every packet.
func TestPcapVariants(t *testing.T) {
	tests := []struct {
		name   string
		bo     binary.AppendByteOrder
		magic  uint32
		nsFrac bool
	}{
		{"le-micro", le, pcapMagicMicro, false},
		{"le-nano", le, pcapMagicNano, true},
		{"be-micro", be, pcapMagicMicro, false},
		{"be-nano", be, pcapMagicNano, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newPcapFile(tc.bo, tc.magic, 2, 4, 96, uint32(LinkEthernet))
			f.record(1700000000, 123456, 60, 60, payload(1, 60))
			f.record(1700000001, 999999, 96, 1514, payload(2, 96)) // snaplen-cut
			f.record(0, 0, 0, 0, nil)                              // empty record
			src, err := openBytes(t, f.buf)
			if err != nil {
				t.Fatal(err)
			}
			wantIf := Interface{Link: LinkEthernet, SnapLen: 96, TsResolution: 1e6}
			mul := int64(1000)
			if tc.nsFrac {
				wantIf.TsResolution, mul = 1e9, 1
			}
			if got := src.Interfaces(); len(got) != 1 || got[0] != wantIf {
				t.Fatalf("Interfaces() = %+v, want [%+v]", got, wantIf)
			}
			pkts, err := readAll(src)
			if err != nil {
				t.Fatal(err)
			}
			want := []pkt{
				{payload(1, 60), PacketInfo{Timestamp: 1700000000*1e9 + 123456*mul, CapLen: 60, OrigLen: 60, Link: LinkEthernet}},
				{payload(2, 96), PacketInfo{Timestamp: 1700000001*1e9 + 999999*mul, CapLen: 96, OrigLen: 1514, Link: LinkEthernet}},
				{[]byte{}, PacketInfo{}},
			}
			want[2].info.Link = LinkEthernet
			comparePkts(t, pkts, want)
			// io.EOF is sticky.
			if _, _, err := src.NextPacket(); err != io.EOF {
				t.Fatalf("after EOF: %v", err)
			}
		})
	}
}

// comparePkts compares packets field by field.
func comparePkts(t *testing.T, got, want []pkt) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].info != want[i].info {
			t.Errorf("packet %d: info %+v, want %+v", i+1, got[i].info, want[i].info)
		}
		if !bytes.Equal(got[i].data, want[i].data) {
			t.Errorf("packet %d: data % x, want % x", i+1, got[i].data, want[i].data)
		}
	}
}

// TestPcapHeader covers the file header: versions (with libpcap's swapped
// length fields before 2.4), link-type FCS bits, rejected headers.
func TestPcapHeader(t *testing.T) {
	data := payload(9, 20)
	tests := []struct {
		name         string
		major, minor uint16
		link         uint32
		capLen, orig uint32
		wantLink     LinkType
		wantCap      uint32 // 0: expect an error from Open
		wantOrig     uint32
		wantErr      error
	}{
		{"v2.4", 2, 4, 1, 20, 100, LinkEthernet, 20, 100, nil},
		{"v2.4 caplen>origlen kept", 2, 4, 1, 20, 10, LinkEthernet, 20, 10, nil},
		{"v2.2 swapped", 2, 2, 1, 100, 20, LinkEthernet, 20, 100, nil},
		{"v2.0 swapped", 2, 0, 1, 100, 20, LinkEthernet, 20, 100, nil},
		{"v2.3 swapped when caplen>origlen", 2, 3, 1, 100, 20, LinkEthernet, 20, 100, nil},
		{"v2.3 not swapped otherwise", 2, 3, 1, 20, 100, LinkEthernet, 20, 100, nil},
		{"FCS bits masked", 2, 4, 0x40000000 | uint32(LinkNull), 20, 20, LinkNull, 20, 20, nil},
		{"FCS length present", 2, 4, 0x24000000 | uint32(LinkSLL2), 20, 20, LinkSLL2, 20, 20, nil},
		{"reserved bits", 2, 4, 0x00010001, 20, 20, 0, 0, 0, ErrUnsupported},
		{"version 1", 1, 4, 1, 20, 20, 0, 0, 0, ErrUnsupported},
		{"version 3", 3, 0, 1, 20, 20, 0, 0, 0, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newPcapFile(le, pcapMagicMicro, tc.major, tc.minor, 0, tc.link)
			f.record(1, 2, tc.capLen, tc.orig, data)
			pkts, err := readBytes(t, f.buf)
			if tc.wantErr != nil {
				fe := fileErr(t, err, tc.wantErr)
				if fe.Record != 0 || fe.Offset != 0 || len(pkts) != 0 {
					t.Fatalf("got %d packets, error at record %d offset %d; want header error", len(pkts), fe.Record, fe.Offset)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != 1 {
				t.Fatalf("got %d packets", len(pkts))
			}
			if i := pkts[0].info; i.Link != tc.wantLink || i.CapLen != tc.wantCap || i.OrigLen != tc.wantOrig {
				t.Fatalf("got link %d cap %d orig %d, want %d %d %d", i.Link, i.CapLen, i.OrigLen, tc.wantLink, tc.wantCap, tc.wantOrig)
			}
		})
	}
}

// TestPcapShortInputs: an empty capture is a clean EOF; anything shorter
// than the file header is ErrTruncated at record 0; unknown magic is
// ErrUnsupported.
func TestPcapShortInputs(t *testing.T) {
	hdr := newPcapFile(le, pcapMagicMicro, 2, 4, 65535, 1).buf
	pkts, err := readBytes(t, hdr)
	if err != nil || len(pkts) != 0 {
		t.Fatalf("header-only file: %d packets, %v", len(pkts), err)
	}
	for n := range len(hdr) {
		_, err := readBytes(t, hdr[:n])
		fe := fileErr(t, err, ErrTruncated)
		if fe.Record != 0 || fe.Offset != 0 {
			t.Fatalf("cut at %d: record %d offset %d", n, fe.Record, fe.Offset)
		}
	}
	_, err = readBytes(t, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	fileErr(t, err, ErrUnsupported)
}

// TestPcapCapLenLimit: the captured length may reach max(snaplen, 256 KiB)
// and 16 MiB at most; beyond that the record is corrupt.
func TestPcapCapLenLimit(t *testing.T) {
	tests := []struct {
		snap, capLen uint32
		ok           bool
	}{
		{65535, 262144, true},
		{65535, 262145, false},
		{0, 262144, true},
		{1 << 20, 1 << 20, true},
		{1 << 20, 1<<20 + 1, false},
		{0xffffffff, 16 << 20, true},
		{0xffffffff, 16<<20 + 1, false},
		{0xffffffff, 0xffffffff, false},
	}
	for _, tc := range tests {
		f := newPcapFile(le, pcapMagicMicro, 2, 4, tc.snap, 1)
		f.record(1, 0, 4, 4, payload(0, 4))
		f.record(2, 0, tc.capLen, tc.capLen, nil)
		if tc.ok {
			f.buf = append(f.buf, make([]byte, tc.capLen)...)
		}
		pkts, err := readBytes(t, f.buf)
		if tc.ok {
			if err != nil || len(pkts) != 2 || len(pkts[1].data) != int(tc.capLen) {
				t.Errorf("snap %d caplen %d: %d packets, %v", tc.snap, tc.capLen, len(pkts), err)
			}
			continue
		}
		fe := fileErr(t, err, ErrCorrupt)
		if len(pkts) != 1 || fe.Record != 2 || fe.Offset != 24+16+4 {
			t.Errorf("snap %d caplen %d: %d packets, record %d offset %d", tc.snap, tc.capLen, len(pkts), fe.Record, fe.Offset)
		}
	}
}
