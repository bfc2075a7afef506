package capture

import (
	"encoding/binary"
	"testing"
)

// TestPcapngInterfaces: several IDBs with different link types, names and
// timestamp resolutions (base 10 and base 2, with an offset), EPB
// direction flags, an OPB, an SPB and unknown blocks, in both byte orders.
func TestPcapngInterfaces(t *testing.T) {
	for _, bo := range []binary.AppendByteOrder{le, be} {
		t.Run(bo.String(), func(t *testing.T) {
			f := &ngFile{}
			f.shb(bo, 1, 0, ngOption{4, []byte("test writer")}) // shb_userappl
			f.idb(LinkEthernet, 0, ngOption{ngOptIfName, []byte("eth0")})
			f.idb(LinkSLL2, 128, ngOption{ngOptIfName, []byte("any\x00")}, ngOption{ngOptIfTsresol, []byte{9}})
			f.idb(LinkRaw, 65535, ngOption{ngOptIfTsresol, []byte{0x80 | 10}}, f.u64opt(ngOptIfTsoffset, 100))
			f.idb(LinkIPv4, 0, ngOption{ngOptIfTsresol, []byte{3}}, ngOption{ngOptIfTsresol + 100, []byte{1, 2, 3}})
			f.block(0x0bad, []byte{1, 2, 3, 4}) // custom block
			f.block(5, make([]byte, 16))        // interface statistics
			f.epb(0, 1_700_000_000_123_456, 60, payload(1, 60), f.u32opt(ngOptFlags, 1))
			f.epb(1, 1_700_000_000_123_456_789, 1500, payload(2, 128), f.u32opt(ngOptFlags, 2))
			f.epb(2, 3<<10|512, 41, payload(3, 41))                                  // 3.5 s at 2^-10
			f.opb(3, 1_700_000_000_250, 20, payload(4, 20), f.u32opt(ngOptFlags, 1)) // ms
			f.spb(100, payload(5, 100))
			f.block(0x40000bad, make([]byte, 8))
			src, err := openBytes(t, f.buf)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			pkts, err := readAll(src)
			if err != nil {
				t.Fatal(err)
			}
			wantIfs := []Interface{
				{Name: "eth0", Link: LinkEthernet, TsResolution: 1e6},
				{Name: "any", Link: LinkSLL2, SnapLen: 128, TsResolution: 1e9},
				{Link: LinkRaw, SnapLen: 65535, TsResolution: 1024},
				{Link: LinkIPv4, TsResolution: 1e3},
			}
			gotIfs := src.Interfaces()
			if len(gotIfs) != len(wantIfs) {
				t.Fatalf("Interfaces() = %+v", gotIfs)
			}
			for i := range gotIfs {
				if gotIfs[i] != wantIfs[i] {
					t.Errorf("interface %d = %+v, want %+v", i, gotIfs[i], wantIfs[i])
				}
			}
			want := []pkt{
				{payload(1, 60), PacketInfo{Timestamp: 1_700_000_000_123_456_000, CapLen: 60, OrigLen: 60, Iface: 0, Link: LinkEthernet, Dir: DirInbound}},
				{payload(2, 128), PacketInfo{Timestamp: 1_700_000_000_123_456_789, CapLen: 128, OrigLen: 1500, Iface: 1, Link: LinkSLL2, Dir: DirOutbound}},
				{payload(3, 41), PacketInfo{Timestamp: 103_500_000_000, CapLen: 41, OrigLen: 41, Iface: 2, Link: LinkRaw}},
				{payload(4, 20), PacketInfo{Timestamp: 1_700_000_000_250_000_000, CapLen: 20, OrigLen: 20, Iface: 3, Link: LinkIPv4, Dir: DirInbound}},
				{payload(5, 100), PacketInfo{CapLen: 100, OrigLen: 100, Iface: 0, Link: LinkEthernet}},
			}
			comparePkts(t, pkts, want)
		})
	}
}

// TestPcapngSections: a second section (in the other byte order) starts a
// new interface list; its interface 0 is a new global index.
func TestPcapngSections(t *testing.T) {
	f := &ngFile{}
	f.shb(le, 1, 0).idb(LinkEthernet, 0).idb(LinkSLL, 0)
	f.epb(1, 10, 10, payload(1, 10))
	f.shb(be, 1, 0).idb(LinkRaw, 0)
	f.epb(0, 20, 20, payload(2, 20))
	f.shb(le, 1, 2).idb(LinkNull, 0).idb(LinkLoop, 0)
	f.epb(1, 30, 30, payload(3, 30)).epb(0, 40, 4, payload(4, 4))
	pkts, err := readBytes(t, f.buf)
	if err != nil {
		t.Fatal(err)
	}
	want := []pkt{
		{payload(1, 10), PacketInfo{Timestamp: 10_000, CapLen: 10, OrigLen: 10, Iface: 1, Link: LinkSLL}},
		{payload(2, 20), PacketInfo{Timestamp: 20_000, CapLen: 20, OrigLen: 20, Iface: 2, Link: LinkRaw}},
		{payload(3, 30), PacketInfo{Timestamp: 30_000, CapLen: 30, OrigLen: 30, Iface: 4, Link: LinkLoop}},
		{payload(4, 4), PacketInfo{Timestamp: 40_000, CapLen: 4, OrigLen: 4, Iface: 3, Link: LinkNull}},
	}
	comparePkts(t, pkts, want)

	// Interface ids of an earlier section are not valid in a later one.
	f = &ngFile{}
	f.shb(le, 1, 0).idb(LinkEthernet, 0).idb(LinkSLL, 0)
	f.shb(le, 1, 0).idb(LinkRaw, 0)
	off := int64(len(f.buf))
	f.epb(1, 0, 1, []byte{1})
	_, err = readBytes(t, f.buf)
	if fe := fileErr(t, err, ErrCorrupt); fe.Record != 6 || fe.Offset != off {
		t.Fatalf("got record %d offset %d, want 6 %d", fe.Record, fe.Offset, off)
	}
}

// TestPcapngSPB: a simple packet block captures min(original length, snap
// length of the section's first interface, bytes in the block).
func TestPcapngSPB(t *testing.T) {
	tests := []struct {
		snap, orig uint32
		data       int
		wantCap    uint32
	}{
		{0, 100, 100, 100},
		{64, 100, 64, 64},
		{64, 40, 40, 40},
		{0, 1500, 64, 64}, // block shorter than the original: cut to the block
	}
	for _, tc := range tests {
		f := &ngFile{}
		f.shb(le, 1, 0).idb(LinkEthernet, tc.snap).idb(LinkRaw, 0)
		f.spb(tc.orig, payload(7, tc.data))
		pkts, err := readBytes(t, f.buf)
		if err != nil || len(pkts) != 1 {
			t.Fatalf("%+v: %d packets, %v", tc, len(pkts), err)
		}
		want := PacketInfo{CapLen: tc.wantCap, OrigLen: tc.orig, Link: LinkEthernet}
		if pkts[0].info != want {
			t.Errorf("%+v: info %+v, want %+v", tc, pkts[0].info, want)
		}
	}
}

// TestPcapngCorrupt: every structural error is a *FileError with the block
// number and offset of the bad block, after the good packets before it.
func TestPcapngCorrupt(t *testing.T) {
	good := func() *ngFile {
		f := &ngFile{}
		f.shb(le, 1, 0).idb(LinkEthernet, 0)
		return f.epb(0, 1, 4, payload(0, 4)) // blocks 1-3, 1 packet
	}
	start := int64(len(good().buf))
	tests := []struct {
		name  string
		build func(f *ngFile)
		class error
	}{
		{"length not multiple of 4", func(f *ngFile) {
			f.block(ngBlockEPB, make([]byte, 24))
			le.PutUint32(f.buf[start+4:], 37)
		}, ErrCorrupt},
		{"length below minimum", func(f *ngFile) { f.block(ngBlockEPB, make([]byte, 16)) }, ErrCorrupt},
		{"length below header", func(f *ngFile) {
			f.buf = le.AppendUint32(f.buf, 99)
			f.buf = le.AppendUint32(f.buf, 8)
		}, ErrCorrupt},
		{"huge length", func(f *ngFile) {
			f.buf = le.AppendUint32(f.buf, 99)
			f.buf = le.AppendUint32(f.buf, 0xfffffffc)
		}, ErrCorrupt},
		{"trailer mismatch", func(f *ngFile) {
			f.epb(0, 2, 4, payload(1, 4))
			le.PutUint32(f.buf[len(f.buf)-4:], 40)
		}, ErrCorrupt},
		{"interface out of range", func(f *ngFile) { f.epb(1, 2, 4, payload(1, 4)) }, ErrCorrupt},
		{"caplen beyond block", func(f *ngFile) {
			f.epb(0, 2, 4, payload(1, 4))
			le.PutUint32(f.buf[start+8+12:], 5)
		}, ErrCorrupt},
		{"option overruns block", func(f *ngFile) {
			f.epb(0, 2, 4, payload(1, 4), f.u32opt(ngOptFlags, 1))
			le.PutUint16(f.buf[start+8+24+2:], 9)
		}, ErrCorrupt},
		{"IDB option overruns block", func(f *ngFile) {
			f.idb(LinkRaw, 0, ngOption{ngOptIfName, []byte("abcd")})
			le.PutUint16(f.buf[start+8+8+2:], 200)
		}, ErrCorrupt},
		{"tsresol too fine", func(f *ngFile) { f.idb(LinkRaw, 0, ngOption{ngOptIfTsresol, []byte{20}}) }, ErrUnsupported},
		{"tsresol base 2 too fine", func(f *ngFile) { f.idb(LinkRaw, 0, ngOption{ngOptIfTsresol, []byte{0x80 | 64}}) }, ErrUnsupported},
		{"SHB bad byte-order magic", func(f *ngFile) {
			f.shb(le, 1, 0)
			le.PutUint32(f.buf[start+8:], 0x12345678)
		}, ErrCorrupt},
		{"SHB version 2", func(f *ngFile) { f.shb(be, 2, 0) }, ErrUnsupported},
		{"cut block header", func(f *ngFile) { f.buf = append(f.buf, 6, 0, 0) }, ErrTruncated},
		{"cut block", func(f *ngFile) {
			f.epb(0, 2, 4, payload(1, 4))
			f.buf = f.buf[:len(f.buf)-1]
		}, ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := good()
			tc.build(f)
			pkts, err := readBytes(t, f.buf)
			fe := fileErr(t, err, tc.class)
			t.Log(err)
			if len(pkts) != 1 || fe.Record != 4 || fe.Offset != start {
				t.Fatalf("got %d packets, record %d offset %d; want 1, 4, %d", len(pkts), fe.Record, fe.Offset, start)
			}
		})
	}

	// An SPB before any IDB of its section.
	f := &ngFile{}
	f.shb(le, 1, 0).spb(4, payload(0, 4))
	_, err := readBytes(t, f.buf)
	if fe := fileErr(t, err, ErrCorrupt); fe.Record != 2 || fe.Offset != 28 {
		t.Fatalf("SPB without IDB: record %d offset %d", fe.Record, fe.Offset)
	}
	// A first SHB that is damaged fails Open at block 1.
	f = &ngFile{}
	f.shb(le, 1, 0)
	le.PutUint32(f.buf[len(f.buf)-4:], 4)
	_, err = readBytes(t, f.buf)
	if fe := fileErr(t, err, ErrCorrupt); fe.Record != 1 || fe.Offset != 0 {
		t.Fatalf("bad first SHB: record %d offset %d", fe.Record, fe.Offset)
	}
}

// TestTsresol checks the conversion of if_tsresol values and of timestamps
// in resolutions that do not divide a second into whole nanoseconds.
func TestTsresol(t *testing.T) {
	for _, tc := range []struct {
		v     byte
		units uint64
		ok    bool
	}{
		{0, 1, true}, {6, 1e6, true}, {9, 1e9, true}, {19, 1e19, true}, {20, 0, false},
		{0x80, 1, true}, {0x80 | 30, 1 << 30, true}, {0x80 | 63, 1 << 63, true}, {0x80 | 64, 0, false}, {0xff, 0, false},
	} {
		units, ok := ngTsresolUnits(tc.v)
		if ok != tc.ok || (ok && units != tc.units) {
			t.Errorf("tsresol %#x: %d %v, want %d %v", tc.v, units, ok, tc.units, tc.ok)
		}
	}
	for _, tc := range []struct {
		units, ts uint64
		off       int64
		want      int64
	}{
		{1e6, 1_500_000, 0, 1_500_000_000},
		{1e9, 7, 5e9, 5_000_000_007},
		{1 << 30, 3<<30 | 1<<29, 0, 3_500_000_000},
		{1 << 30, 1, 0, 0}, // 0.93 ns rounds down
		{1e12, 2_000_000_000_001_999, 0, 2_000_000_000_001},
		{1e19, 1e19 + 5e18, 0, 1_500_000_000},
		{1 << 63, 1<<63 + 1<<61, 0, 1_250_000_000},
	} {
		c := newIfaceConv(0, tc.units, tc.off)
		if got := c.nanos(tc.ts); got != tc.want {
			t.Errorf("units %d ts %d: %d ns, want %d", tc.units, tc.ts, got, tc.want)
		}
	}
}
