// Package testdata finds the shared test captures and reads their tshark
// oracle (../shared/testdata, see its oracle/README.md). Tests of every
// package use it, so that the location rule and the oracle's formats are
// written once.
package testdata

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// EnvVar names the environment variable that overrides the location of the
// shared test data folder.
const EnvVar = "FLOWSQL_TESTDATA"

// Root returns $FLOWSQL_TESTDATA, else ../shared/testdata beside the
// repository root (found from the working directory by its go.mod), and
// whether it holds a pcap folder. A relative $FLOWSQL_TESTDATA is taken from
// the repository root, since go test runs each package in its own folder.
func Root() (string, bool) {
	dir := os.Getenv(EnvVar)
	if dir == "" || !filepath.IsAbs(dir) {
		root, ok := repoRoot()
		switch {
		case dir == "" && !ok:
			return "", false
		case dir == "":
			dir = filepath.Join(root, "..", "shared", "testdata")
		case ok:
			dir = filepath.Join(root, dir)
		}
	}
	dir, _ = filepath.Abs(dir)
	st, err := os.Stat(filepath.Join(dir, "pcap"))
	return dir, err == nil && st.IsDir()
}

// repoRoot returns the nearest folder at or above the working directory
// that holds a go.mod.
func repoRoot() (string, bool) {
	root, err := filepath.Abs(".")
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return root, true
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "", false
		}
		root = parent
	}
}

// PcapDir returns the folder of shared captures, or skips the test with a
// message saying how to provide it.
func PcapDir(tb testing.TB) string {
	tb.Helper()
	dir, ok := Root()
	if !ok {
		tb.Skipf("shared test captures not found in %q (set %s to the shared testdata folder)", filepath.Join(dir, "pcap"), EnvVar)
	}
	return filepath.Join(dir, "pcap")
}

// Captures lists the capture files of the shared folder (base names),
// skipping the test when it is absent.
func Captures(tb testing.TB) (dir string, names []string) {
	tb.Helper()
	dir = PcapDir(tb)
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatalf("reading %s: %v", dir, err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() && filepath.Ext(e.Name()) != ".md" {
			names = append(names, e.Name())
		}
	}
	return dir, names
}

// Summary is the part of oracle/<file>.summary.json that tests compare.
// Packets are records of the file; bytes are original (wire) lengths,
// except CapturedBytes, the bytes stored in the file.
type Summary struct {
	TotalPackets    uint64 `json:"total_packets"`
	IPv4Packets     uint64 `json:"ipv4_packets"`
	IPv6Packets     uint64 `json:"ipv6_packets"`
	NonIPPackets    uint64 `json:"non_ip_packets"`
	IPBytes         uint64 `json:"ip_bytes"`
	TotalBytes      uint64 `json:"total_bytes"`
	DistinctFlows   uint64 `json:"distinct_flows"`
	TsharkExitCode  int    `json:"tshark_exit_code"`
	TsharkError     string `json:"tshark_error"`
	NonFirstFrags   uint64 `json:"nonfirst_fragment_packets"`
	FragmentPackets uint64 `json:"fragment_packets"`
	// CapturedBytes sums the captured (stored) lengths of the records.
	CapturedBytes uint64 `json:"total_captured_bytes"`
	// IPHeaderUndecoded counts the packets announced as IP by their link
	// layer whose IP header tshark could not decode (counted as non-IP).
	IPHeaderUndecoded uint64 `json:"ip_header_undecoded_packets"`
}

// ReadSummary reads the oracle summary of capture name in dir.
func ReadSummary(dir, name string) (Summary, error) {
	var s Summary
	b, err := os.ReadFile(filepath.Join(dir, "oracle", name+".summary.json"))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s.summary.json: %w", name, err)
	}
	return s, nil
}

// Flow is one row of oracle/<file>.flows.csv: a unidirectional 5-tuple.
type Flow struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
	Packets, Bytes   uint64
}

// ReadFlows reads the oracle flows of capture name in dir.
func ReadFlows(dir, name string) ([]Flow, error) {
	f, err := os.Open(filepath.Join(dir, "oracle", name+".flows.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil { // header
		return nil, fmt.Errorf("%s.flows.csv header: %w", name, err)
	}
	var out []Flow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s.flows.csv: %w", name, err)
		}
		fl, err := parseFlow(rec)
		if err != nil {
			return nil, fmt.Errorf("%s.flows.csv line %d: %w", name, len(out)+2, err)
		}
		out = append(out, fl)
	}
}

func parseFlow(rec []string) (Flow, error) {
	var fl Flow
	if len(rec) != 7 {
		return fl, fmt.Errorf("%d fields, want 7", len(rec))
	}
	var err error
	if fl.Src, err = netip.ParseAddr(rec[0]); err != nil {
		return fl, err
	}
	if fl.Dst, err = netip.ParseAddr(rec[1]); err != nil {
		return fl, err
	}
	nums := make([]uint64, 5)
	for i, s := range rec[2:] {
		if nums[i], err = strconv.ParseUint(s, 10, 64); err != nil {
			return fl, err
		}
	}
	fl.SrcPort, fl.DstPort, fl.Proto = uint16(nums[0]), uint16(nums[1]), uint8(nums[2])
	fl.Packets, fl.Bytes = nums[3], nums[4]
	return fl, nil
}

// PairKey identifies an unordered address pair and protocol: the level at
// which stored (oriented, source-port-free) flows and the oracle's
// unidirectional 5-tuples can be compared exactly.
type PairKey struct {
	A, B  netip.Addr // A <= B
	Proto uint8
}

// MakePairKey orders the two addresses. IPv4-mapped addresses are unmapped
// so stored 16-byte addresses and the oracle's text compare equal.
func MakePairKey(x, y netip.Addr, proto uint8) PairKey {
	x, y = x.Unmap(), y.Unmap()
	if y.Less(x) {
		x, y = y, x
	}
	return PairKey{A: x, B: y, Proto: proto}
}

// Totals are packets and bytes.
type Totals struct{ Packets, Bytes uint64 }

// ByPair sums oracle flows per unordered address pair and protocol.
func ByPair(flows []Flow) map[PairKey]Totals {
	m := make(map[PairKey]Totals)
	for _, f := range flows {
		k := MakePairKey(f.Src, f.Dst, f.Proto)
		t := m[k]
		t.Packets += f.Packets
		t.Bytes += f.Bytes
		m[k] = t
	}
	return m
}
