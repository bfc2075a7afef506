package ingest

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowsql/flowsql/capture"
	pb "github.com/flowsql/flowsql/internal/pktbuild"
)

// fragDatagram builds the Ethernet frames of one UDP datagram between the
// decoder test addresses, cut into n fragments of 64 payload bytes.
func fragDatagram(t *testing.T, ip pb.Layer, id uint32, sport, dport uint16, n int) [][]byte {
	t.Helper()
	frames, err := pb.Datagram{Link: []pb.Layer{pb.Ethernet{}}, IP: ip, ID: id,
		Upper: []pb.Layer{pb.UDP{SrcPort: sport, DstPort: dport}, pb.Payload(make([]byte, 64*n-8))}}.Fragments(64)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != n {
		t.Fatalf("got %d fragments, want %d", len(frames), n)
	}
	return frames
}

// fragDecode decodes frame at time ts (seconds) and returns the packet.
func fragDecode(t *testing.T, d *Decoder, frame []byte, ts int64) Packet {
	t.Helper()
	var p Packet
	info := capture.PacketInfo{Link: capture.LinkEthernet, OrigLen: uint32(len(frame)), Timestamp: ts * 1e9}
	if res := d.Decode(frame, info, &p); res != ResultIP {
		t.Fatalf("Decode = %v, want ResultIP", res)
	}
	return p
}

// fragCheck asserts a fragment's proto, ports and HasTransport.
func fragCheck(t *testing.T, what string, p Packet, proto uint8, sport, dport uint16, hasTransport bool) {
	t.Helper()
	if p.Proto != proto || p.SrcPort != sport || p.DstPort != dport || p.HasTransport != hasTransport {
		t.Errorf("%s: proto %d ports %d/%d transport %v, want proto %d ports %d/%d transport %v",
			what, p.Proto, p.SrcPort, p.DstPort, p.HasTransport, proto, sport, dport, hasTransport)
	}
}

func TestFragmentsInOrder(t *testing.T) {
	for _, ip := range []pb.Layer{decIPv4, decIPv6} {
		t.Run(pbName(ip), func(t *testing.T) {
			d := NewDecoder(DecoderOptions{})
			frames := fragDatagram(t, ip, 77, 3000, 4000, 4)
			fragCheck(t, "first", fragDecode(t, d, frames[0], 0), 17, 3000, 4000, true)
			for i, f := range frames[1:] {
				fragCheck(t, "fragment "+string(rune('1'+i)), fragDecode(t, d, f, 0), 17, 3000, 4000, false)
			}
		})
	}
}

func TestFragmentsOutOfOrder(t *testing.T) {
	for _, ip := range []pb.Layer{decIPv4, decIPv6} {
		t.Run(pbName(ip), func(t *testing.T) {
			d := NewDecoder(DecoderOptions{})
			frames := fragDatagram(t, ip, 0x10203, 3000, 4000, 4)
			// Last and third arrive before the first: no reassembly, port 0.
			fragCheck(t, "last early", fragDecode(t, d, frames[3], 0), 17, 0, 0, false)
			fragCheck(t, "third early", fragDecode(t, d, frames[2], 0), 17, 0, 0, false)
			fragCheck(t, "first", fragDecode(t, d, frames[0], 0), 17, 3000, 4000, true)
			fragCheck(t, "second late", fragDecode(t, d, frames[1], 0), 17, 3000, 4000, false)
			fragCheck(t, "duplicate last", fragDecode(t, d, frames[3], 0), 17, 3000, 4000, false)
		})
	}
}

func TestFragmentsKeyed(t *testing.T) {
	d := NewDecoder(DecoderOptions{})
	first := fragDatagram(t, decIPv4, 5, 1111, 2222, 2)[0]
	fragDecode(t, d, first, 0)
	other := func(ip pb.IPv4, id uint32) Packet {
		return fragDecode(t, d, fragDatagram(t, ip, id, 1, 2, 2)[1], 0)
	}
	fragCheck(t, "same datagram", other(decIPv4, 5), 17, 1111, 2222, false)
	fragCheck(t, "other id", other(decIPv4, 6), 17, 0, 0, false)
	fragCheck(t, "id differs above 16 bits is the same IPv4 datagram", other(decIPv4, 5|1<<16), 17, 1111, 2222, false)
	fragCheck(t, "other source", other(pb.IPv4{Src: decB4, Dst: decB4}, 5), 17, 0, 0, false)
	fragCheck(t, "swapped addresses", other(pb.IPv4{Src: decB4, Dst: decA4}, 5), 17, 0, 0, false)
	tcpNext := pb.MustBuild(pb.Ethernet{}, pb.IPv4{Src: decA4, Dst: decB4, ID: 5, FragOffset: 1, Proto: 6}, pb.Payload(make([]byte, 8)))
	fragCheck(t, "other protocol", fragDecode(t, d, tcpNext, 0), 6, 0, 0, false)
	v6next := fragDatagram(t, pb.IPv6{Src: decA4, Dst: decB4}, 5, 1, 2, 2)[1] // same mapped addresses, IPv6 header
	if p := fragDecode(t, d, v6next, 0); p.IPv4 || p.SrcPort != 0 {
		t.Errorf("IPv6 fragment matched an IPv4 datagram: %+v", p)
	}
}

// TestFragmentsIPv6ChainAfterFragmentHeader: the protocol of non-first
// fragments is the Fragment header's Next Header (the oracle's rule) unless
// the first fragment was seen, which tells the protocol behind the
// destination options that follow the Fragment header.
func TestFragmentsIPv6ChainAfterFragmentHeader(t *testing.T) {
	frames, err := pb.Datagram{Link: []pb.Layer{pb.Ethernet{}}, IP: decIPv6, ID: 9,
		Unfragmentable: []pb.Layer{pb.IPv6Ext{Type: pb.ProtoHopByHop}},
		Upper:          []pb.Layer{pb.IPv6Ext{Type: pb.ProtoDstOpts}, pb.UDP{SrcPort: 53, DstPort: 5353}, pb.Payload(make([]byte, 100))}}.Fragments(64)
	if err != nil {
		t.Fatal(err)
	}
	fragCheck(t, "next before first", fragDecode(t, NewDecoder(DecoderOptions{}), frames[1], 0), 60, 0, 0, false)
	d := NewDecoder(DecoderOptions{})
	fragCheck(t, "first", fragDecode(t, d, frames[0], 0), 17, 53, 5353, true)
	fragCheck(t, "next after first", fragDecode(t, d, frames[1], 0), 17, 53, 5353, false)
}

func TestFragmentsAtomicAndFirstOnly(t *testing.T) {
	d := NewDecoder(DecoderOptions{})
	atomic := fragDatagram(t, decIPv6, 1, 10, 20, 1)[0] // offset 0, M clear
	fragCheck(t, "atomic", fragDecode(t, d, atomic, 0), 17, 10, 20, true)
	if n := fragUsed(d); n != 0 {
		t.Errorf("atomic fragment remembered: %d entries", n)
	}
	// A first fragment whose UDP header was cut remembers nothing.
	cut := fragDatagram(t, decIPv4, 2, 10, 20, 2)[0][:14+20+2]
	fragCheck(t, "cut first", fragDecode(t, d, cut, 0), 17, 0, 0, false)
	if n := fragUsed(d); n != 0 {
		t.Errorf("cut first fragment remembered: %d entries", n)
	}
	// An ICMP first fragment has no ports to remember.
	icmp, err := pb.Datagram{Link: []pb.Layer{pb.Ethernet{}}, IP: decIPv4, ID: 3,
		Upper: []pb.Layer{pb.ICMP{Type: 8}, pb.Payload(make([]byte, 200))}}.Fragments(64)
	if err != nil {
		t.Fatal(err)
	}
	fragDecode(t, d, icmp[0], 0)
	fragCheck(t, "icmp next", fragDecode(t, d, icmp[1], 0), 1, 0, 0, false)
	if n := fragUsed(d); n != 0 {
		t.Errorf("ICMP first fragment remembered: %d entries", n)
	}
}

func TestFragmentsTimeout(t *testing.T) {
	frames := fragDatagram(t, decIPv4, 4, 5, 6, 3)
	d := NewDecoder(DecoderOptions{})
	fragDecode(t, d, frames[0], 100)
	fragCheck(t, "within 30s", fragDecode(t, d, frames[1], 129), 17, 5, 6, false)
	fragCheck(t, "after 30s", fragDecode(t, d, frames[2], 131), 17, 0, 0, false)

	d = NewDecoder(DecoderOptions{FragmentTimeout: time.Second})
	fragDecode(t, d, frames[0], 100)
	fragCheck(t, "custom timeout", fragDecode(t, d, frames[1], 102), 17, 0, 0, false)

	d = NewDecoder(DecoderOptions{FragmentTimeout: -1})
	fragDecode(t, d, frames[0], 100)
	fragCheck(t, "no timeout", fragDecode(t, d, frames[1], 100000), 17, 5, 6, false)
	fragCheck(t, "clock going back", fragDecode(t, d, frames[2], 0), 17, 5, 6, false)
}

func TestFragmentTableDisabled(t *testing.T) {
	d := NewDecoder(DecoderOptions{FragmentTableSize: -1})
	frames := fragDatagram(t, decIPv6, 4, 5, 6, 2)
	fragCheck(t, "first", fragDecode(t, d, frames[0], 0), 17, 5, 6, true)
	fragCheck(t, "next", fragDecode(t, d, frames[1], 0), 17, 0, 0, false)
}

// TestFragmentTableEvictsOldest fills the single set of a minimal table.
func TestFragmentTableEvictsOldest(t *testing.T) {
	d := NewDecoder(DecoderOptions{FragmentTableSize: 1})
	if got := len(d.frags.entries); got != fragWays {
		t.Fatalf("table of size 1 has %d entries, want %d", got, fragWays)
	}
	const n = fragWays + 1
	var nexts [n][]byte
	for i := range n {
		f := fragDatagram(t, decIPv4, uint32(100+i), uint16(1000+i), 53, 2)
		nexts[i] = f[1]
		fragDecode(t, d, f[0], 0)
		if i == 0 { // a repeated first fragment must not take a second entry
			fragDecode(t, d, f[0], 0)
		}
	}
	fragCheck(t, "oldest evicted", fragDecode(t, d, nexts[0], 0), 17, 0, 0, false)
	for i := 1; i < n; i++ {
		fragCheck(t, "kept", fragDecode(t, d, nexts[i], 0), 17, uint16(1000+i), 53, false)
	}
}

func TestFragmentTableSizes(t *testing.T) {
	for _, c := range []struct{ size, want int }{
		{0, DefaultFragmentTableSize}, {1, 4}, {4, 4}, {5, 8}, {100, 128}, {1024, 1024}, {-1, 0},
	} {
		d := NewDecoder(DecoderOptions{FragmentTableSize: c.size})
		if got := len(d.frags.entries); got != c.want {
			t.Errorf("FragmentTableSize %d: %d entries, want %d", c.size, got, c.want)
		}
	}
}

// TestFragmentTableSpreads checks that datagrams differing only in their
// id, or only in their source address, use the whole table rather than a
// few sets (a good hash fills about 205 of 256 entries; a bad one, 64).
func TestFragmentTableSpreads(t *testing.T) {
	for _, vary := range []string{"id", "source"} {
		d := NewDecoder(DecoderOptions{FragmentTableSize: 256})
		for i := range 256 {
			ip := pb.IPv4{Src: decA4, Dst: decB4, ID: uint16(i), MF: true}
			if vary == "source" {
				ip.ID, ip.Src = 1, netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
			}
			fragDecode(t, d, pb.MustBuild(pb.Ethernet{}, ip, pb.UDP{SrcPort: 1, DstPort: 2}), 0)
		}
		if n := fragUsed(d); n < 170 {
			t.Errorf("256 datagrams varying in %s filled only %d of 256 entries", vary, n)
		}
	}
}

func fragUsed(d *Decoder) int {
	n := 0
	for _, e := range d.frags.entries {
		if e.used {
			n++
		}
	}
	return n
}

func pbName(l pb.Layer) string {
	if _, ok := l.(pb.IPv4); ok {
		return "ipv4"
	}
	return "ipv6"
}
