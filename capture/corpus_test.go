package capture

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/internal/testdata"
)

// TestCorpusOracle reads every corpus file and compares the packet count
// and the sum of original lengths with tshark's (oracle/*.summary.json).
// Files tshark could not finish must end in an error after exactly the
// records tshark delivered; the error class follows tshark's message.
func TestCorpusOracle(t *testing.T) {
	dir, names := testdata.Captures(t)
	if len(names) == 0 {
		t.Skipf("no capture files in %s", dir)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, err := testdata.ReadSummary(dir, name)
			if err != nil {
				t.Fatalf("oracle for %s: %v", name, err)
			}
			src, err := OpenFile(filepath.Join(dir, name))
			var pkts []pkt
			if err == nil {
				pkts, err = readAll(src)
				if cerr := src.Close(); cerr != nil {
					t.Errorf("Close: %v", cerr)
				}
			}
			var n, bytes, capBytes uint64
			for _, p := range pkts {
				n++
				bytes += uint64(p.info.OrigLen)
				capBytes += uint64(p.info.CapLen)
				if p.info.Iface < 0 || p.info.Iface >= len(src.Interfaces()) {
					t.Fatalf("packet %d: Iface %d out of range", n, p.info.Iface)
				}
				if p.info.Link != src.Interfaces()[p.info.Iface].Link {
					t.Fatalf("packet %d: Link %d != its interface's %d", n, p.info.Link, src.Interfaces()[p.info.Iface].Link)
				}
			}
			if n != want.TotalPackets || bytes != want.TotalBytes || capBytes != want.CapturedBytes {
				t.Errorf("read %d packets, %d bytes, %d captured; tshark %d, %d, %d",
					n, bytes, capBytes, want.TotalPackets, want.TotalBytes, want.CapturedBytes)
			}
			if want.TsharkExitCode == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; tshark says %q", want.TsharkError)
			}
			var class error
			switch {
			case strings.Contains(want.TsharkError, "cut short"):
				class = ErrTruncated
			case strings.Contains(want.TsharkError, "damaged or corrupt"):
				class = ErrCorrupt
			case strings.Contains(want.TsharkError, "doesn't support"):
				class = ErrUnsupported
			default:
				t.Fatalf("unclassified tshark error %q", want.TsharkError)
			}
			fe := fileErr(t, err, class)
			t.Logf("error (tshark: %q): %v", want.TsharkError, err)
			if !strings.HasSuffix(fe.Path, name) {
				t.Errorf("error path %q does not name %s", fe.Path, name)
			}
			if errors.Is(err, io.EOF) {
				t.Errorf("error wraps io.EOF")
			}
		})
	}
}
