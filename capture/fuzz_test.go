package capture

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/internal/testdata"
)

// Fuzz tests of the file reader. Run each for a while with e.g.
//
//	go test -run '^$' -fuzz FuzzPcapng -fuzztime 20s -fuzzminimizetime 2s ./capture
//
// (the engine's default of up to 60 s minimizing each new interesting
// input makes short runs look stalled)
//
// Seeds: small corpus files (when FLOWSQL_TESTDATA is present) and the
// hand-built files below. Each input is checked by checkCapture.

// addCorpusSeeds adds the corpus files with suffix ext smaller than 4 KiB.
func addCorpusSeeds(f *testing.F, ext string) {
	root, ok := testdata.Root()
	if !ok {
		return // seeds from code only
	}
	dir := filepath.Join(root, "pcap")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !strings.HasSuffix(e.Name(), ext) || info.Size() > 4<<10 {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			f.Add(b)
		}
	}
}

func FuzzPcap(f *testing.F) {
	addCorpusSeeds(f, ".pcap")
	f.Add(samplePcap()[:400])
	f.Add(newPcapFile(be, pcapMagicNano, 2, 4, 64, 0x40000000|113).record(1, 2, 3, 2, []byte{1, 2, 3}).buf)
	f.Add(newPcapFile(le, pcapMagicMicro, 2, 2, 0, 1).record(1, 2, 50, 3, []byte{1, 2, 3}).buf)
	f.Add(newPcapFile(le, pcapMagicMicro, 2, 3, 0, 1).record(1, 2, 3, 50, []byte{1, 2, 3}).buf)
	f.Add(gzipBytes(f, samplePcap()[:200], 1))
	f.Fuzz(checkCapture)
}

func FuzzPcapng(f *testing.F) {
	addCorpusSeeds(f, ".pcapng")
	f.Add(samplePcapng()[:600])
	ng := &ngFile{}
	ng.shb(be, 1, 0).idb(LinkRaw, 8, ngOption{ngOptIfTsresol, []byte{0x83}}, ngOption{ngOptIfName, []byte("x")})
	ng.spb(20, payload(1, 8)).opb(0, 5, 4, payload(2, 4), ng.u32opt(ngOptFlags, 2))
	ng.shb(le, 1, 0).idb(LinkSLL, 0, ng.u64opt(ngOptIfTsoffset, 7)).block(99, []byte{1, 2, 3, 4})
	ng.epb(0, 1<<40, 10, payload(3, 10), ng.u32opt(ngOptFlags, 1))
	f.Add(ng.buf)
	f.Fuzz(checkCapture)
}

// fuzzRead drains a capture held in memory with the given read buffer. It
// returns the format (0 when Open failed).
func fuzzRead(t *testing.T, data []byte, bufSize int) ([]pkt, []Interface, fileFormat, error) {
	src, err := Open(bytes.NewReader(data), "fuzz", WithBufferSize(bufSize))
	if err != nil {
		return nil, nil, 0, err
	}
	defer src.Close()
	pkts, err := readAll(src)
	ifs := src.Interfaces()
	for i, p := range pkts {
		if p.info.CapLen > capLenHard || p.info.Iface < 0 || p.info.Iface >= len(ifs) ||
			p.info.Link != ifs[p.info.Iface].Link {
			t.Fatalf("packet %d: bad info %+v (interfaces %+v)", i+1, p.info, ifs)
		}
	}
	return pkts, ifs, src.format, err
}

// checkCapture reads data and checks what holds for any input: no panic;
// every error is a *FileError of a known class whose record number and
// offset agree with the packets returned; a small read buffer gives the
// same result; pcap packets survive a round trip through PcapWriter.
func checkCapture(t *testing.T, data []byte) {
	// Two buffer sizes: records that fit and records that do not.
	pkts, ifs, format, err := fuzzRead(t, data, 64<<10)
	pkts2, _, _, err2 := fuzzRead(t, data, minFileBufferSize)
	if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
		t.Fatalf("buffer sizes disagree: %v / %v", err, err2)
	}
	comparePkts(t, pkts2, pkts)
	if err == nil {
		if format == formatPcap {
			roundTrip(t, pkts, ifs[0])
		}
		return
	}
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *FileError", err)
	}
	if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrUnsupported) {
		t.Fatalf("error %v has no class", err)
	}
	// Offsets count decompressed bytes, so bound them only for plain input.
	gz := len(data) >= 2 && data[0] == gzipMagic0 && data[1] == gzipMagic1
	if fe.Offset < 0 || (!gz && fe.Offset > int64(len(data))) {
		t.Fatalf("error offset %d outside the %d input bytes", fe.Offset, len(data))
	}
	switch format {
	case 0: // Open failed: a file header (or gzip header) error
		if fe.Record > 1 || fe.Offset != 0 {
			t.Fatalf("Open failed at record %d offset %d", fe.Record, fe.Offset)
		}
	case formatPcap:
		if fe.Record != int64(len(pkts))+1 || fe.Offset < pcapHdrLen {
			t.Fatalf("pcap: %d packets, then error at record %d offset %d", len(pkts), fe.Record, fe.Offset)
		}
		roundTrip(t, pkts, ifs[0])
	case formatPcapng:
		if fe.Record <= int64(len(pkts))+1 || fe.Offset%4 != 0 {
			t.Fatalf("pcapng: %d packets, then error at block %d offset %d", len(pkts), fe.Record, fe.Offset)
		}
	}
}

// roundTrip writes pcap packets with PcapWriter and reads them back, when
// all of them are writable (timestamp in range, original >= captured).
func roundTrip(t *testing.T, pkts []pkt, ifc Interface) {
	snap := uint32(1)
	for _, p := range pkts {
		if p.info.Timestamp < 0 || p.info.Timestamp/1e9 > 0xffffffff || p.info.OrigLen < p.info.CapLen {
			return
		}
		snap = max(snap, p.info.CapLen)
	}
	var buf bytes.Buffer
	w, err := NewPcapWriter(&buf, ifc.Link, snap, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := w.WritePacket(p.info.Timestamp, p.data, p.info.OrigLen); err != nil {
			t.Fatal(err)
		}
	}
	back, _, _, err := fuzzRead(t, buf.Bytes(), 64<<10)
	if err != nil {
		t.Fatalf("re-reading written packets: %v", err)
	}
	comparePkts(t, back, pkts)
}
