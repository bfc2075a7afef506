package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/internal/testdata"
)

// The corpus test ingests every capture of the shared test data through
// the real reader, decoder and aggregator, and compares the blocks with
// tshark's oracle (../shared/testdata/oracle/README.md). The oracle counts
// per unidirectional 5-tuple, without orientation; a stored flow merges
// both directions and drops the client port, so the comparison is per
// (unordered address pair, protocol): packets and bytes must be equal.

// corpusCounts holds the summary counts the test compares.
type corpusCounts struct {
	TotalPackets, NonIPPackets, IPBytes, TotalBytes uint64
}

// blockPairs sums blocks per unordered pair and protocol, checking each
// block's invariants on the way.
func blockPairs(t *testing.T, blocks []*columnar.Block) map[testdata.PairKey]testdata.Totals {
	t.Helper()
	pairs := map[testdata.PairKey]testdata.Totals{}
	type ifaceStart struct {
		iface string
		start int64
	}
	seen := map[ifaceStart]bool{}
	for _, b := range blocks {
		is := ifaceStart{b.Iface, b.Start}
		if seen[is] {
			t.Errorf("two blocks for %s at %d", b.Iface, b.Start)
		}
		seen[is] = true
		if b.Start%300 != 0 || b.End != b.Start+300 {
			t.Errorf("block %s [%d,%d) not an aligned 300 s interval", b.Iface, b.Start, b.End)
		}
		keys := map[string]bool{}
		for i := range b.Len() {
			k := fmt.Sprint(b.SIP[i], b.DIP[i], b.DPort[i], b.Proto[i])
			if keys[k] {
				t.Errorf("block %s@%d: row %d repeats a key", b.Iface, b.Start, i)
			}
			keys[k] = true
			pk := testdata.MakePairKey(modelAddr(b.SIP[i]), modelAddr(b.DIP[i]), b.Proto[i])
			pairs[pk] = pairs[pk].Add(b.PacketsIn[i]+b.PacketsOut[i], b.BytesIn[i]+b.BytesOut[i])
		}
	}
	return pairs
}

func ingestCorpusFile(t *testing.T, path string) (Stats, []*columnar.Block, error) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		return Stats{}, nil, err
	}
	defer src.Close()
	sink := &blockSink{}
	st, err := IngestSource(context.Background(), src, sink, Options{DefaultName: filepath.Base(path)})
	return st, sink.got(), err
}

func TestIngestCorpus(t *testing.T) {
	dir, names := testdata.Captures(t)
	if len(names) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, wantFlows := readAdjustedOracle(t, dir, name)
			wantPairs := testdata.ByPair(wantFlows)
			st, blocks, err := ingestCorpusFile(t, filepath.Join(dir, name))
			switch {
			case err == nil && want.TsharkExitCode != 0:
				t.Errorf("no error on a file tshark could not read to the end")
			case err != nil && want.TsharkExitCode == 0:
				t.Fatalf("IngestSource: %v", err)
			case err != nil && st.Packets > 0 && !errors.Is(err, ErrRead):
				t.Errorf("error after %d packets is not ErrRead: %v", st.Packets, err)
			case err != nil:
				t.Logf("expected error: %v", err)
			}
			got := corpusCounts{TotalPackets: st.Packets, NonIPPackets: st.NonIP + st.ParseErrors, TotalBytes: st.Bytes}
			for _, c := range blockPairs(t, blocks) {
				got.IPBytes += c.Bytes
			}
			if st.IPPackets != want.IPv4Packets+want.IPv6Packets {
				t.Errorf("IP packets %d, oracle %d", st.IPPackets, want.IPv4Packets+want.IPv6Packets)
			}
			if w := (corpusCounts{want.TotalPackets, want.NonIPPackets, want.IPBytes, want.TotalBytes}); got != w {
				t.Errorf("summary\n got  %+v\n want %+v", got, w)
			}
			gotPairs := blockPairs(t, blocks)
			for k, w := range wantPairs {
				if g := gotPairs[k]; g != w {
					t.Errorf("%v <-> %v proto %d: %d packets %d bytes, oracle %d, %d", k.A, k.B, k.Proto, g.Packets, g.Bytes, w.Packets, w.Bytes)
				}
			}
			for k, g := range gotPairs {
				if _, ok := wantPairs[k]; !ok {
					t.Errorf("%v <-> %v proto %d: %d packets not in the oracle", k.A, k.B, k.Proto, g.Packets)
				}
			}
			var flows uint64
			for _, b := range blocks {
				flows += uint64(b.Len())
			}
			if st.Blocks != uint64(len(blocks)) || st.Flows != flows {
				t.Errorf("Stats: %d blocks %d flows; sink got %d, %d", st.Blocks, st.Flows, len(blocks), flows)
			}
		})
	}
}

// TestIngestCorpusOrientation checks the stored orientation on captures
// whose clients are known.
func TestIngestCorpusOrientation(t *testing.T) {
	dir := testdata.PcapDir(t)
	t.Run("http get", func(t *testing.T) {
		_, blocks, err := ingestCorpusFile(t, filepath.Join(dir, "flowtest_http_get.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		if len(blocks) != 1 {
			t.Fatalf("%d blocks, want 1", len(blocks))
		}
		checkRows(t, "http get", blocks, rows("192.168.1.140 174.143.213.184 80 6 in=19/23307 out=21/1528"))
	})
	t.Run("syn scan", func(t *testing.T) {
		// 172.16.0.8 sends SYNs to many ports of 64.13.134.52, which answers
		// with SYN-ACK or RST: every TCP flow's client is the scanner and
		// its port the scanned one.
		_, blocks, err := ingestCorpusFile(t, filepath.Join(dir, "ndpi_synscan.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		scanner := netip.MustParseAddr("172.16.0.8")
		var tcp int
		for _, b := range blocks {
			for i := range b.Len() {
				if b.Proto[i] != protoTCP {
					continue
				}
				tcp++
				if modelAddr(b.SIP[i]) != scanner || b.PacketsOut[i] == 0 {
					t.Errorf("row %v -> %v port %d: want the scanner as client, sending", modelAddr(b.SIP[i]), modelAddr(b.DIP[i]), b.DPort[i])
				}
			}
		}
		if tcp < 900 {
			t.Errorf("%d TCP flows; the scan touches about a thousand ports", tcp)
		}
	})
}
