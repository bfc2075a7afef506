package capture

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusFiles lists the capture files of the shared corpus.
func corpusFiles(tb testing.TB) (dir string, names []string) {
	tb.Helper()
	dir = testdataDir(tb)
	ents, err := os.ReadDir(filepath.Join(dir, "pcap"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && (strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng") ||
			strings.HasSuffix(n, ".pcap.gz") || strings.HasSuffix(n, ".pcapng.gz")) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		tb.Skipf("no capture files in %s/pcap", dir)
	}
	return dir, names
}

// TestCorpusOracle reads every corpus file and compares the packet count
// and the sum of original lengths with tshark's (oracle/*.summary.json).
// Files tshark could not finish must end in an error after exactly the
// records tshark delivered; the error class follows tshark's message.
func TestCorpusOracle(t *testing.T) {
	dir, names := corpusFiles(t)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want := readOracle(t, dir, name)
			src, err := OpenFile(filepath.Join(dir, "pcap", name))
			var pkts []pkt
			if err == nil {
				pkts, err = readAll(src)
				if cerr := src.Close(); cerr != nil {
					t.Errorf("Close: %v", cerr)
				}
			}
			var n, bytes, capBytes int64
			for _, p := range pkts {
				n++
				bytes += int64(p.info.OrigLen)
				capBytes += int64(p.info.CapLen)
				if p.info.Iface < 0 || p.info.Iface >= len(src.Interfaces()) {
					t.Fatalf("packet %d: Iface %d out of range", n, p.info.Iface)
				}
				if p.info.Link != src.Interfaces()[p.info.Iface].Link {
					t.Fatalf("packet %d: Link %d != its interface's %d", n, p.info.Link, src.Interfaces()[p.info.Iface].Link)
				}
			}
			if n != want.TotalPackets || bytes != want.TotalBytes || capBytes != want.CapBytes {
				t.Errorf("read %d packets, %d bytes, %d captured; tshark %d, %d, %d",
					n, bytes, capBytes, want.TotalPackets, want.TotalBytes, want.CapBytes)
			}
			if want.ExitCode == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; tshark says %q", want.Error)
			}
			var class error
			switch {
			case strings.Contains(want.Error, "cut short"):
				class = ErrTruncated
			case strings.Contains(want.Error, "damaged or corrupt"):
				class = ErrCorrupt
			case strings.Contains(want.Error, "doesn't support"):
				class = ErrUnsupported
			default:
				t.Fatalf("unclassified tshark error %q", want.Error)
			}
			fe := fileErr(t, err, class)
			t.Logf("error (tshark: %q): %v", want.Error, err)
			if !strings.HasSuffix(fe.Path, name) {
				t.Errorf("error path %q does not name %s", fe.Path, name)
			}
			if errors.Is(err, io.EOF) {
				t.Errorf("error wraps io.EOF")
			}
		})
	}
}
