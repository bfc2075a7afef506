package ingest

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
)

// The corpus test ingests every capture of the shared test data through
// the real reader, decoder and aggregator, and compares the blocks with
// tshark's oracle (../shared/testdata/oracle/README.md). The oracle counts
// per unidirectional 5-tuple, without orientation; a stored flow merges
// both directions and drops the client port, so the comparison is per
// (unordered address pair, protocol): packets and bytes must be equal.

// corpusDir returns $FLOWSQL_TESTDATA/pcap (relative values are taken from
// the repository root; default ../shared/testdata), or skips the test.
func corpusDir(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..") // this package is <root>/ingest
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("FLOWSQL_TESTDATA")
	if dir == "" {
		dir = filepath.Join("..", "shared", "testdata")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	pcaps := filepath.Join(dir, "pcap")
	if _, err := os.Stat(filepath.Join(pcaps, "oracle")); err != nil {
		t.Skipf("shared test captures not found (set FLOWSQL_TESTDATA to the testdata directory): %v", err)
	}
	return pcaps
}

// pairKey is an unordered address pair and a protocol.
type pairKey struct {
	a, b  netip.Addr // a < b
	proto uint8
}

func newPairKey(x, y netip.Addr, proto uint8) pairKey {
	if y.Less(x) {
		x, y = y, x
	}
	return pairKey{x, y, proto}
}

type pairCount struct{ packets, bytes uint64 }

type corpusSummary struct {
	TotalPackets uint64 `json:"total_packets"`
	IPv4Packets  uint64 `json:"ipv4_packets"`
	IPv6Packets  uint64 `json:"ipv6_packets"`
	NonIPPackets uint64 `json:"non_ip_packets"`
	IPBytes      uint64 `json:"ip_bytes"`
	TotalBytes   uint64 `json:"total_bytes"`
	ExitCode     int    `json:"tshark_exit_code"`
}

// corpusNotIP lists oracle rows the decoder rightly calls non-IP (see the
// oracle README's caveats).
var corpusNotIP = map[string]struct {
	src, dst string
	proto    uint8
	bytes    uint64
}{
	"pcapplusplus_null_loopback.pcap": {"10.0.0.138", "10.0.0.1", 17, 397},
}

func readCorpusOracle(t *testing.T, dir, name string) (corpusSummary, map[pairKey]pairCount) {
	t.Helper()
	var sum corpusSummary
	js, err := os.ReadFile(filepath.Join(dir, "oracle", name+".summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &sum); err != nil {
		t.Fatalf("%s summary: %v", name, err)
	}
	f, err := os.Open(filepath.Join(dir, "oracle", name+".flows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s flows: %v", name, err)
	}
	pairs := map[pairKey]pairCount{}
	for i, r := range recs[1:] { // src_ip,dst_ip,src_port,dst_port,proto,packets,bytes
		proto, err1 := strconv.ParseUint(r[4], 10, 8)
		pk, err2 := strconv.ParseUint(r[5], 10, 64)
		by, err3 := strconv.ParseUint(r[6], 10, 64)
		src, err4 := netip.ParseAddr(r[0])
		dst, err5 := netip.ParseAddr(r[1])
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			t.Fatalf("%s flows row %d: %v", name, i+2, err)
		}
		k := newPairKey(src.Unmap(), dst.Unmap(), uint8(proto))
		c := pairs[k]
		c.packets += pk
		c.bytes += by
		pairs[k] = c
	}
	if adj, ok := corpusNotIP[name]; ok {
		k := newPairKey(netip.MustParseAddr(adj.src), netip.MustParseAddr(adj.dst), adj.proto)
		c := pairs[k]
		c.packets--
		c.bytes -= adj.bytes
		pairs[k] = c
		if c.packets == 0 {
			delete(pairs, k)
		}
		sum.IPv4Packets--
		sum.IPBytes -= adj.bytes
		sum.NonIPPackets++
	}
	return sum, pairs
}

// blockPairs sums blocks per unordered pair and protocol, checking each
// block's invariants on the way.
func blockPairs(t *testing.T, blocks []*columnar.Block) map[pairKey]pairCount {
	t.Helper()
	pairs := map[pairKey]pairCount{}
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
			pk := newPairKey(modelAddr(b.SIP[i]), modelAddr(b.DIP[i]), b.Proto[i])
			c := pairs[pk]
			c.packets += b.PacketsIn[i] + b.PacketsOut[i]
			c.bytes += b.BytesIn[i] + b.BytesOut[i]
			pairs[pk] = c
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
	dir := corpusDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") || strings.HasSuffix(name, ".gz")) {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			want, wantPairs := readCorpusOracle(t, dir, name)
			st, blocks, err := ingestCorpusFile(t, filepath.Join(dir, name))
			switch {
			case err == nil && want.ExitCode != 0:
				t.Errorf("no error on a file tshark could not read to the end")
			case err != nil && want.ExitCode == 0:
				t.Fatalf("IngestSource: %v", err)
			case err != nil && st.Packets > 0 && !errors.Is(err, ErrRead):
				t.Errorf("error after %d packets is not ErrRead: %v", st.Packets, err)
			case err != nil:
				t.Logf("expected error: %v", err)
			}
			got := corpusSummary{TotalPackets: st.Packets, IPv4Packets: want.IPv4Packets, IPv6Packets: want.IPv6Packets,
				NonIPPackets: st.NonIP + st.ParseErrors, IPBytes: 0, TotalBytes: st.Bytes, ExitCode: want.ExitCode}
			var ipBytes uint64
			for _, c := range blockPairs(t, blocks) {
				ipBytes += c.bytes
			}
			got.IPBytes = ipBytes
			if st.IPPackets != want.IPv4Packets+want.IPv6Packets {
				t.Errorf("IP packets %d, oracle %d", st.IPPackets, want.IPv4Packets+want.IPv6Packets)
			}
			if got != want {
				t.Errorf("summary\n got  %+v\n want %+v", got, want)
			}
			gotPairs := blockPairs(t, blocks)
			for k, w := range wantPairs {
				if g := gotPairs[k]; g != w {
					t.Errorf("%v <-> %v proto %d: %d packets %d bytes, oracle %d, %d", k.a, k.b, k.proto, g.packets, g.bytes, w.packets, w.bytes)
				}
			}
			for k, g := range gotPairs {
				if _, ok := wantPairs[k]; !ok {
					t.Errorf("%v <-> %v proto %d: %d packets not in the oracle", k.a, k.b, k.proto, g.packets)
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
	if n == 0 {
		t.Fatalf("no captures in %s", dir)
	}
}

// TestIngestCorpusOrientation checks the stored orientation on captures
// whose clients are known.
func TestIngestCorpusOrientation(t *testing.T) {
	dir := corpusDir(t)
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
