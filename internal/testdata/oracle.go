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
