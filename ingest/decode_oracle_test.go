package ingest

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/internal/testdata"
)

// The oracle test decodes every capture of the shared corpus and compares
// the counts with tshark's (see ../shared/testdata/oracle/README.md):
//
//   - the summary: records, IPv4, IPv6, non-IP (= our non_ip +
//     parse_errors) packets and the bytes of IP packets;
//   - per unidirectional 5-tuple, exactly, with the fragment table
//     disabled: tshark does no reassembly, so non-first fragments have
//     ports 0 there, and so they do here without the table;
//   - with the fragment table (the default), per unidirectional 5-tuple for
//     files without non-first fragments, and per (unordered address pair,
//     protocol) for all: non-first fragments then move from the port-0 row
//     to their datagram's row, which changes 5-tuples but not those sums.
//
// readAdjustedOracle reads the oracle files of capture name in dir,
// corrected by the documented exceptions in testdata.NotIP.
func readAdjustedOracle(t testing.TB, dir, name string) (testdata.Summary, []testdata.Flow) {
	t.Helper()
	return testdata.ReadAdjustedOracle(t, dir, name)
}

// decCounts holds the summary counts the test compares.
type decCounts struct {
	TotalPackets, IPv4Packets, IPv6Packets, NonIPPackets, IPBytes uint64
}

// decTally is what decoding a whole file gives.
type decTally struct {
	summary decCounts
	flows   map[testdata.FlowKey]testdata.Totals
	pairs   map[testdata.PairKey]testdata.Totals
	readErr error
}

func decAddr(b [16]byte, v4 bool) netip.Addr {
	a := netip.AddrFrom16(b)
	if v4 {
		a = a.Unmap()
	}
	return a
}

// decDecodeFile decodes every record of path with a decoder built from opts.
func decDecodeFile(t *testing.T, path string, opts DecoderOptions) decTally {
	t.Helper()
	src, err := capture.OpenFile(path)
	tl := decTally{flows: map[testdata.FlowKey]testdata.Totals{}, pairs: map[testdata.PairKey]testdata.Totals{}}
	if err != nil {
		tl.readErr = err
		return tl
	}
	defer src.Close()
	d := NewDecoder(opts)
	var p Packet
	for {
		data, info, err := src.NextPacket()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				tl.readErr = err
			}
			return tl
		}
		tl.summary.TotalPackets++
		switch d.Decode(data, info, &p) {
		case ResultIP:
			if p.IPv4 {
				tl.summary.IPv4Packets++
			} else {
				tl.summary.IPv6Packets++
			}
			tl.summary.IPBytes += uint64(p.Len)
			sa, da := decAddr(p.Src, p.IPv4), decAddr(p.Dst, p.IPv4)
			k := testdata.FlowKey{Src: sa, Dst: da, SrcPort: p.SrcPort, DstPort: p.DstPort, Proto: p.Proto}
			tl.flows[k] = tl.flows[k].Add(1, uint64(p.Len))
			pk := testdata.MakePairKey(sa, da, p.Proto)
			tl.pairs[pk] = tl.pairs[pk].Add(1, uint64(p.Len))
		default:
			tl.summary.NonIPPackets++
		}
	}
}

// decDiff describes the differences between got and want, at most 10.
func decDiff[K comparable](got, want map[K]testdata.Totals) []string {
	var out []string
	for k, w := range want {
		if g := got[k]; g != w {
			out = append(out, fmt.Sprintf("%+v: got %+v, oracle %+v", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("%+v: got %+v, not in oracle", k, g))
		}
	}
	slices.Sort(out)
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("... and %d more", len(out)-10))
	}
	return out
}

// decPort0 counts the TCP/UDP packets without ports.
func decPort0(flows map[testdata.FlowKey]testdata.Totals) uint64 {
	var n uint64
	for k, c := range flows {
		if k.SrcPort == 0 && k.DstPort == 0 && (k.Proto == 6 || k.Proto == 17) {
			n += c.Packets
		}
	}
	return n
}

func TestDecodeOracle(t *testing.T) {
	dir, names := testdata.Captures(t)
	if len(names) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			oracle, oracleFlows := readAdjustedOracle(t, dir, name)
			want := decCounts{oracle.TotalPackets, oracle.IPv4Packets, oracle.IPv6Packets, oracle.NonIPPackets, oracle.IPBytes}
			wantFlows := testdata.ByFlow(oracleFlows)
			plain := decDecodeFile(t, filepath.Join(dir, name), DecoderOptions{FragmentTableSize: -1})
			got := plain.summary
			if plain.readErr != nil {
				t.Logf("read stopped: %v", plain.readErr)
				if oracle.TsharkExitCode == 0 {
					t.Errorf("reader failed on a file tshark reads cleanly: %v", plain.readErr)
				}
			}
			if got != want {
				t.Errorf("summary\n got %+v\nwant %+v", got, want)
			}
			if d := decDiff(plain.flows, wantFlows); len(d) > 0 {
				t.Errorf("per 5-tuple without fragment table:\n%s", strings.Join(d, "\n"))
			}
			withTable := decDecodeFile(t, filepath.Join(dir, name), DecoderOptions{})
			if oracle.NonFirstFrags == 0 {
				if d := decDiff(withTable.flows, wantFlows); len(d) > 0 {
					t.Errorf("per 5-tuple with fragment table:\n%s", strings.Join(d, "\n"))
				}
			}
			if d := decDiff(withTable.pairs, testdata.ByPair(oracleFlows)); len(d) > 0 {
				t.Errorf("per address pair and protocol with fragment table:\n%s", strings.Join(d, "\n"))
			}
			// The table must have put non-first fragments in their flows:
			// every file here has first fragments before later ones.
			if z0, z1 := decPort0(plain.flows), decPort0(withTable.flows); z1 > z0 || (oracle.NonFirstFrags > 0 && z0 > 0 && z1 == z0) {
				t.Errorf("TCP/UDP packets with port 0: %d without fragment table, %d with it", z0, z1)
			} else if z0 > 0 {
				t.Logf("fragment table gave ports to %d of %d TCP/UDP packets without them", z0-z1, z0)
			}
		})
	}
}
