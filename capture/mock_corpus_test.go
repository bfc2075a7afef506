package capture

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/flowsql/flowsql/internal/testdata"
)

// TestMockRingCorpus replays every Ethernet and raw-IP capture of the
// shared test corpus through a MockRing with the kernel filter, as a live
// Ring would see that traffic, and checks the result against tshark's
// count of IP packets and bytes: the filter keeps every IP frame (and, on
// top, the frames tshark found too damaged to call IP, which the decoder
// counts as parse errors), drops everything else, keeps original lengths,
// and stores a prefix of each frame.
func TestMockRingCorpus(t *testing.T) {
	dir, names := testdata.Captures(t)
	checked := 0
	for _, name := range names {
		path := filepath.Join(dir, name)
		want, err := testdata.ReadSummary(dir, name)
		if err != nil {
			t.Fatalf("%s: oracle: %v", name, err)
		}
		if want.TsharkExitCode != 0 {
			continue // damaged files: the file readers' tests cover them
		}
		t.Run(name, func(t *testing.T) {
			src, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			m, err := NewMockRingFromSource(src, MockOptions{Filter: true})
			if errors.Is(err, ErrUnsupportedLink) {
				t.Skipf("no kernel filter for this capture's link type: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			checked++
			// Walk the file again next to the ring: each ring packet is a
			// prefix of the next IP frame of the file.
			again, err := OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			var packets, implausible int
			var bytesSum uint64
			for {
				data, info, err := m.NextPacket()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if !mockPlausibleIP(m.Interfaces()[0].Link, data) {
					implausible++ // the decoder's parse errors; tshark's non-IP
				} else {
					packets++
					bytesSum += uint64(info.OrigLen)
				}
				matched := false
				for !matched {
					fdata, finfo, err := again.NextPacket()
					if err != nil {
						t.Fatalf("ring packet %d matches no frame of the file: %v", packets+implausible, err)
					}
					matched = finfo.Timestamp == info.Timestamp && finfo.OrigLen == info.OrigLen &&
						bytes.HasPrefix(fdata, data)
				}
			}
			ip := want.IPv4Packets + want.IPv6Packets
			if n := uint64(packets); n < ip || n > ip+want.IPHeaderUndecoded {
				t.Errorf("ring kept %d packets with an IP header (and %d without); tshark counts %d IP packets (+%d undecodable)",
					packets, implausible, ip, want.IPHeaderUndecoded)
			}
			if uint64(packets) == ip && bytesSum != want.IPBytes {
				t.Errorf("ring kept %d bytes on the wire, tshark %d", bytesSum, want.IPBytes)
			}
		})
	}
	if len(names) == 0 {
		t.Skip("no captures in the corpus")
	}
	t.Logf("%d captures replayed through the mock ring", checked)
}

// mockPlausibleIP reports whether the frame has, where the filter found
// it, an IP header with the version its link layer announced and (IPv4) a
// header length of at least 20 bytes. The filter keeps frames that fail
// this so the decoder can count them as parse errors; tshark calls them
// non-IP.
func mockPlausibleIP(link LinkType, f []byte) bool {
	l3, version := slowL3(link, f)
	if version == 0 || l3 >= len(f) || int(f[l3]>>4) != version {
		return false
	}
	return version != 4 || f[l3]&0x0f >= 5
}
