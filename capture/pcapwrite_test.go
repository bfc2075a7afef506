package capture

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestPcapWriterRoundTrip writes packets and reads them back.
func TestPcapWriterRoundTrip(t *testing.T) {
	for _, nano := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := NewPcapWriter(&buf, LinkSLL2, 100, nano)
		if err != nil {
			t.Fatal(err)
		}
		in := []struct {
			ts   int64
			data []byte
			orig uint32
		}{
			{1_700_000_000_123_456_789, payload(1, 60), 0},
			{1_700_000_001_000_000_001, payload(2, 150), 1500}, // cut to snaplen 100
			{0, nil, 0},
			{(1<<32-1)*1e9 + 999_999_999, payload(3, 1), 64},
		}
		for _, p := range in {
			if err := w.WritePacket(p.ts, p.data, p.orig); err != nil {
				t.Fatal(err)
			}
		}
		src, err := openBytes(t, buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		wantIf := Interface{Link: LinkSLL2, SnapLen: 100, TsResolution: 1e6}
		if nano {
			wantIf.TsResolution = 1e9
		}
		if ifs := src.Interfaces(); len(ifs) != 1 || ifs[0] != wantIf {
			t.Fatalf("Interfaces() = %+v", ifs)
		}
		got, err := readAll(src)
		if err != nil {
			t.Fatal(err)
		}
		var want []pkt
		for _, p := range in {
			data := p.data[:min(len(p.data), 100)]
			orig := p.orig
			if orig == 0 {
				orig = uint32(len(data))
			}
			ts := p.ts
			if !nano {
				ts -= ts % 1000
			}
			want = append(want, pkt{append([]byte{}, data...), PacketInfo{
				Timestamp: ts, CapLen: uint32(len(data)), OrigLen: orig, Link: LinkSLL2,
			}})
		}
		comparePkts(t, got, want)
	}
}

// TestPcapWriterBytes pins the exact bytes of a small file.
func TestPcapWriterBytes(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewPcapWriter(&buf, LinkEthernet, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(1_000_002_500, []byte{0xaa, 0xbb}, 60); err != nil {
		t.Fatal(err)
	}
	want := "d4c3b2a1" + "02000400" + "00000000" + "00000000" + "00000400" + "01000000" +
		"01000000" + "02000000" + "02000000" + "3c000000" + "aabb"
	if got := hex.EncodeToString(buf.Bytes()); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// failWriter fails every write after the first n.
type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}

// TestPcapWriterErrors: bad arguments and write errors are reported; a
// write error is sticky.
func TestPcapWriterErrors(t *testing.T) {
	if _, err := NewPcapWriter(io.Discard, LinkEthernet, 32<<20, false); err == nil {
		t.Fatal("snaplen 32 MiB accepted")
	}
	if _, err := NewPcapWriter(&failWriter{}, LinkEthernet, 0, false); err == nil {
		t.Fatal("header write error lost")
	}
	w, err := NewPcapWriter(io.Discard, LinkEthernet, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ts   int64
		data []byte
		orig uint32
		msg  string
	}{
		{-1, nil, 0, "timestamp"},
		{(1 << 32) * 1e9, nil, 0, "timestamp"},
		{0, make([]byte, 10), 9, "original length"},
	} {
		if err := w.WritePacket(tc.ts, tc.data, tc.orig); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("WritePacket(%d, %d bytes, %d) = %v", tc.ts, len(tc.data), tc.orig, err)
		}
	}
	w, err = NewPcapWriter(&failWriter{n: 2}, LinkEthernet, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(0, []byte{1}, 0); err == nil {
		t.Fatal("data write error lost")
	}
	if err := w.WritePacket(0, []byte{1}, 0); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error not sticky: %v", err)
	}
}

// TestPcapWriterNoAllocs: writing a packet allocates nothing.
func TestPcapWriterNoAllocs(t *testing.T) {
	w, err := NewPcapWriter(io.Discard, LinkEthernet, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	data := payload(0, 1500)
	if allocs := testing.AllocsPerRun(1000, func() { _ = w.WritePacket(1e18, data, 0) }); allocs != 0 {
		t.Fatalf("%v allocs per WritePacket", allocs)
	}
}
