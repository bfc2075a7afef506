package testdata

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

// ReadOracle reads the oracle summary and flows of capture name in dir (the
// folder PcapDir and Captures return), failing the test when they are
// missing or malformed.
func ReadOracle(tb testing.TB, dir, name string) (Summary, []Flow) {
	tb.Helper()
	sum, err := ReadSummary(dir, name)
	if err != nil {
		tb.Fatalf("oracle summary of %s: %v", name, err)
	}
	flows, err := ReadFlows(dir, name)
	if err != nil {
		tb.Fatalf("oracle flows of %s: %v", name, err)
	}
	return sum, flows
}

// FlowKey is a unidirectional 5-tuple, the oracle's unit. Addresses are
// kept as written: an IPv4 flow has 4-byte addresses.
type FlowKey struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
}

// Key returns the flow's 5-tuple.
func (f Flow) Key() FlowKey {
	return FlowKey{Src: f.Src, Dst: f.Dst, SrcPort: f.SrcPort, DstPort: f.DstPort, Proto: f.Proto}
}

// ByFlow sums oracle flows per unidirectional 5-tuple.
func ByFlow(flows []Flow) map[FlowKey]Totals {
	m := make(map[FlowKey]Totals, len(flows))
	for _, f := range flows {
		m[f.Key()] = m[f.Key()].Add(f.Packets, f.Bytes)
	}
	return m
}

// Add returns t with packets and bytes added.
func (t Totals) Add(packets, bytes uint64) Totals {
	return Totals{Packets: t.Packets + packets, Bytes: t.Bytes + bytes}
}

// MoveToNonIP corrects the oracle for packets it counts as IP that the
// caller, for a documented reason, counts as non-IP: it takes row's packets
// and bytes off the flow with row's 5-tuple (dropping the flow when no
// packet is left) and, in sum, moves them from the IPv4 or IPv6 packets
// (by row.Src's family) and the IP bytes to the non-IP packets. It returns
// the corrected flows, or an error when the oracle does not hold that many
// packets and bytes for the 5-tuple.
func MoveToNonIP(sum *Summary, flows []Flow, row Flow) ([]Flow, error) {
	i := slices.IndexFunc(flows, func(f Flow) bool { return f.Key() == row.Key() })
	if i < 0 {
		return flows, fmt.Errorf("no oracle flow %+v", row.Key())
	}
	f := flows[i]
	ipPackets := &sum.IPv6Packets
	if row.Src.Is4() {
		ipPackets = &sum.IPv4Packets
	}
	if f.Packets < row.Packets || f.Bytes < row.Bytes || (f.Packets == row.Packets) != (f.Bytes == row.Bytes) ||
		*ipPackets < row.Packets || sum.IPBytes < row.Bytes {
		return flows, fmt.Errorf("oracle flow %+v has %d packets %d bytes, cannot take off %d, %d",
			row.Key(), f.Packets, f.Bytes, row.Packets, row.Bytes)
	}
	flows = slices.Clone(flows)
	if f.Packets == row.Packets {
		flows = slices.Delete(flows, i, i+1)
	} else {
		flows[i].Packets -= row.Packets
		flows[i].Bytes -= row.Bytes
	}
	*ipPackets -= row.Packets
	sum.IPBytes -= row.Bytes
	sum.NonIPPackets += row.Packets
	return flows, nil
}

// NotIPException is an oracle row that flowsql, by design, counts as not
// IP, with the reason.
type NotIPException struct {
	Reason string
	Rows   []Flow
}

// NotIP lists, per capture file, the records where flowsql's decoder
// legitimately disagrees with tshark. Tests correct the oracle by exactly
// these rows (ReadAdjustedOracle), so any other difference fails.
var NotIP = map[string]NotIPException{
	"pcapplusplus_null_loopback.pcap": {
		Reason: "packet 3 has the NULL header 0f 00 08 00, not an address family; tshark reads " +
			"0x0800 in it as an EtherType, a strict decoder calls the frame non-IP (oracle README)",
		Rows: []Flow{{Src: netip.MustParseAddr("10.0.0.138"), Dst: netip.MustParseAddr("10.0.0.1"),
			SrcPort: 53, DstPort: 58125, Proto: 17, Packets: 1, Bytes: 397}},
	},
}

// ReadAdjustedOracle reads the oracle of capture name in dir corrected by
// NotIP, logging the reason of any correction.
func ReadAdjustedOracle(tb testing.TB, dir, name string) (Summary, []Flow) {
	tb.Helper()
	sum, flows := ReadOracle(tb, dir, name)
	ex, ok := NotIP[name]
	if !ok {
		return sum, flows
	}
	tb.Logf("known difference with tshark: %s", ex.Reason)
	for _, row := range ex.Rows {
		var err error
		if flows, err = MoveToNonIP(&sum, flows, row); err != nil {
			tb.Fatalf("%s: oracle adjustment: %v", name, err)
		}
	}
	return sum, flows
}
