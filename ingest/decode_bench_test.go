package ingest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/flowsql/flowsql/capture"
	pb "github.com/flowsql/flowsql/internal/pktbuild"
)

// Decoder benchmarks, against a naive layered decoder in this file.
//
// Compare the two implementations of one run with benchstat:
//
//	go test -run '^$' -bench '^BenchmarkDecode$' -count 10 ./ingest/ > decode.txt
//	benchstat -col /impl decode.txt
//
// or one implementation across commits:
//
//	go test -run '^$' -bench '^BenchmarkDecode$/impl=flowsql' -count 10 ./ingest/ > new.txt
//	benchstat old.txt new.txt

// decFrame is one benchmark/alloc-test frame.
type decFrame struct {
	name  string
	data  []byte
	info  capture.PacketInfo
	naive bool // the naive baseline decodes it too
	null  bool // info.Link 0 is LinkNull, not "Ethernet by default"
}

// decBenchFrames builds the frames of the benchmarks and TestNoAllocs.
// Fragments come first-then-next so that the next ones hit the table.
func decBenchFrames(tb testing.TB) []decFrame {
	tb.Helper()
	a4, b4 := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("172.16.0.9")
	a6, b6 := netip.MustParseAddr("2001:db8::10"), netip.MustParseAddr("2001:db8:1::20")
	ip4, ip6 := pb.IPv4{Src: a4, Dst: b4, DF: true}, pb.IPv6{Src: a6, Dst: b6}
	tcp := pb.TCP{SrcPort: 51514, DstPort: 443, Flags: pb.ACK, Seq: 1, Ack: 2}
	udp := pb.UDP{SrcPort: 40001, DstPort: 53}
	body := pb.Payload(make([]byte, 100))
	must := func(l ...pb.Layer) []byte {
		b, err := pb.Build(l...)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	frags := func(ip pb.Layer) [][]byte {
		f, err := pb.Datagram{Link: []pb.Layer{pb.Ethernet{}}, IP: ip, ID: 0x1234,
			Upper: []pb.Layer{udp, pb.Payload(make([]byte, 2000))}}.Fragments(1400)
		if err != nil {
			tb.Fatal(err)
		}
		return f
	}
	f4, f6 := frags(pb.IPv4{Src: a4, Dst: b4}), frags(ip6)
	eth := capture.LinkEthernet
	frames := []decFrame{
		{name: "eth-ipv4-tcp", data: must(pb.Ethernet{}, ip4, tcp, body), naive: true},
		{name: "eth-ipv6-udp", data: must(pb.Ethernet{}, ip6, udp, body), naive: true},
		{name: "eth-vlan-ipv4-udp", data: must(pb.Ethernet{}, pb.VLAN{ID: 10}, ip4, udp, body), naive: true},
		{name: "eth-ipv4-frag-first", data: f4[0], naive: true},
		{name: "eth-ipv4-frag-next", data: f4[1], naive: true},
		{name: "eth-ipv6-frag-first", data: f6[0], naive: true},
		{name: "eth-ipv6-frag-next", data: f6[1], naive: true},
		{name: "eth-ipv6-ext-tcp", data: must(pb.Ethernet{}, ip6, pb.IPv6Ext{Type: pb.ProtoHopByHop, Data: make([]byte, 6)},
			pb.IPv6Ext{Type: pb.ProtoDstOpts, Data: make([]byte, 14)}, tcp, body), naive: true},
		{name: "eth-qinq-pppoe-ipv4-tcp", data: must(pb.Ethernet{}, pb.VLAN{TPID: pb.EtherTypeQinQ, ID: 2}, pb.VLAN{ID: 3}, pb.PPPoE{}, ip4, tcp, body)},
		{name: "eth-mpls-ipv4-tcp", data: must(pb.Ethernet{}, pb.MPLS{Label: 20}, pb.MPLS{Label: 30}, ip4, tcp, body)},
		{name: "eth-arp", data: must(pb.Ethernet{}, pb.ARP{SenderIP: a4, TargetIP: b4})},
		{name: "sll-ipv4-tcp", data: must(pb.SLL{PacketType: pb.SLLOutgoing}, ip4, tcp, body), info: capture.PacketInfo{Link: capture.LinkSLL}},
		{name: "sll2-ipv6-udp", data: must(pb.SLL2{}, ip6, udp, body), info: capture.PacketInfo{Link: capture.LinkSLL2}},
		{name: "null-ipv4-tcp", data: must(pb.Null{}, ip4, tcp, body), info: capture.PacketInfo{Link: capture.LinkNull}, null: true},
		{name: "raw-ipv6-udp", data: must(ip6, udp, body), info: capture.PacketInfo{Link: capture.LinkRaw}},
	}
	for i := range frames {
		f := &frames[i]
		if f.info.Link == 0 && !f.null {
			f.info.Link = eth
		}
		f.info.CapLen, f.info.OrigLen = uint32(len(f.data)), uint32(len(f.data))
		f.info.Timestamp = 1_700_000_000e9
	}
	return frames
}

func BenchmarkDecode(b *testing.B) {
	frames := decBenchFrames(b)
	b.Run("impl=flowsql", func(b *testing.B) {
		for _, f := range frames {
			b.Run("frame="+f.name, func(b *testing.B) {
				d := NewDecoder(DecoderOptions{})
				var p Packet
				d.Decode(frames[3].data, frames[3].info, &p) // first fragments
				d.Decode(frames[5].data, frames[5].info, &p)
				b.ReportAllocs()
				for b.Loop() {
					d.Decode(f.data, f.info, &p)
				}
			})
		}
		b.Run("frame=mix", func(b *testing.B) {
			d := NewDecoder(DecoderOptions{})
			var p Packet
			mix := decNaiveMix(frames)
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range mix {
					d.Decode(f.data, f.info, &p)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(mix)), "ns/packet")
		})
	})
	b.Run("impl=naive", func(b *testing.B) {
		for _, f := range frames {
			if !f.naive {
				continue
			}
			b.Run("frame="+f.name, func(b *testing.B) {
				n := newNaiveDecoder()
				n.decode(frames[3].data) // first fragments
				n.decode(frames[5].data)
				b.ReportAllocs()
				for b.Loop() {
					n.decode(f.data)
				}
			})
		}
		b.Run("frame=mix", func(b *testing.B) {
			n := newNaiveDecoder()
			mix := decNaiveMix(frames)
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range mix {
					n.decode(f.data)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(mix)), "ns/packet")
		})
	})
}

// decNaiveMix is the traffic mix of the "mix" benchmarks: mostly IPv4 TCP,
// some IPv6 UDP, VLAN-tagged frames and a fragmented datagram.
func decNaiveMix(frames []decFrame) []decFrame {
	idx := []int{0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 7}
	mix := make([]decFrame, len(idx))
	for i, j := range idx {
		mix[i] = frames[j]
	}
	return mix
}

// The naive baseline: a straightforward layered decoder in the style of
// gopacket's DecodingLayerParser written without care for allocation —
// one heap value per layer, encoding/binary for every field, netip.Addr
// for addresses, errors built with fmt, a Go map for fragments. It handles
// only Ethernet, 802.1Q, IPv4, IPv6 (+ext headers), TCP and UDP.

type naiveLayer interface{ layerName() string }

type naiveEthernet struct {
	dst, src  []byte
	etherType uint16
	payload   []byte
}

type naiveDot1Q struct {
	tci       uint16
	etherType uint16
	payload   []byte
}

type naiveIP struct {
	src, dst   netip.Addr
	proto      uint8
	id         uint32
	fragOffset uint16
	more       bool
	payload    []byte
}

type naivePorts struct {
	src, dst uint16
	flags    uint8
}

func (*naiveEthernet) layerName() string { return "Ethernet" }
func (*naiveDot1Q) layerName() string    { return "Dot1Q" }
func (*naiveIP) layerName() string       { return "IP" }
func (*naivePorts) layerName() string    { return "Transport" }

type naiveFragKey struct {
	src, dst netip.Addr
	proto    uint8
	id       uint32
}

type naiveDecoder struct {
	frags map[naiveFragKey]naivePorts
}

func newNaiveDecoder() *naiveDecoder {
	return &naiveDecoder{frags: make(map[naiveFragKey]naivePorts)}
}

var errNaiveShort = errors.New("truncated")

// naiveResult is what the baseline extracts: the same facts as Packet.
type naiveResult struct {
	src, dst         netip.Addr
	srcPort, dstPort uint16
	proto, flags     uint8
}

func (n *naiveDecoder) decode(data []byte) (naiveResult, error) {
	var layers []naiveLayer
	if len(data) < 14 {
		return naiveResult{}, fmt.Errorf("ethernet: %w", errNaiveShort)
	}
	eth := &naiveEthernet{dst: data[0:6], src: data[6:12], etherType: binary.BigEndian.Uint16(data[12:14]), payload: data[14:]}
	layers = append(layers, eth)
	et, payload := eth.etherType, eth.payload
	for et == 0x8100 {
		if len(payload) < 4 {
			return naiveResult{}, fmt.Errorf("dot1q: %w", errNaiveShort)
		}
		q := &naiveDot1Q{tci: binary.BigEndian.Uint16(payload[0:2]), etherType: binary.BigEndian.Uint16(payload[2:4]), payload: payload[4:]}
		layers = append(layers, q)
		et, payload = q.etherType, q.payload
	}
	var ip *naiveIP
	switch et {
	case 0x0800:
		if len(payload) < 20 {
			return naiveResult{}, fmt.Errorf("ipv4: %w", errNaiveShort)
		}
		hl := int(payload[0]&0x0f) * 4
		if hl < 20 || hl > len(payload) {
			return naiveResult{}, fmt.Errorf("ipv4: bad header length %d", hl)
		}
		src, _ := netip.AddrFromSlice(payload[12:16])
		dst, _ := netip.AddrFromSlice(payload[16:20])
		frag := binary.BigEndian.Uint16(payload[6:8])
		ip = &naiveIP{src: src, dst: dst, proto: payload[9], id: uint32(binary.BigEndian.Uint16(payload[4:6])),
			fragOffset: frag & 0x1fff, more: frag&0x2000 != 0, payload: payload[hl:]}
	case 0x86dd:
		if len(payload) < 40 {
			return naiveResult{}, fmt.Errorf("ipv6: %w", errNaiveShort)
		}
		src, _ := netip.AddrFromSlice(payload[8:24])
		dst, _ := netip.AddrFromSlice(payload[24:40])
		ip = &naiveIP{src: src, dst: dst, proto: payload[6], payload: payload[40:]}
	ext:
		for {
			switch ip.proto {
			case 0, 43, 60:
				if len(ip.payload) < 2 || len(ip.payload) < (int(ip.payload[1])+1)*8 {
					return naiveResult{}, fmt.Errorf("ipv6 ext: %w", errNaiveShort)
				}
				l := (int(ip.payload[1]) + 1) * 8
				ip.proto, ip.payload = ip.payload[0], ip.payload[l:]
			case 44:
				if len(ip.payload) < 8 {
					return naiveResult{}, fmt.Errorf("ipv6 frag: %w", errNaiveShort)
				}
				fo := binary.BigEndian.Uint16(ip.payload[2:4])
				ip.fragOffset, ip.more = fo>>3, fo&1 != 0
				ip.id = binary.BigEndian.Uint32(ip.payload[4:8])
				ip.proto, ip.payload = ip.payload[0], ip.payload[8:]
			default:
				break ext
			}
		}
	default:
		return naiveResult{}, fmt.Errorf("ethertype %#04x not IP", et)
	}
	layers = append(layers, ip)
	r := naiveResult{src: ip.src, dst: ip.dst, proto: ip.proto}
	key := naiveFragKey{src: ip.src, dst: ip.dst, proto: ip.proto, id: ip.id}
	if ip.fragOffset != 0 {
		ports := n.frags[key]
		r.srcPort, r.dstPort = ports.src, ports.dst
		return r, nil
	}
	if (ip.proto == 6 && len(ip.payload) >= 14) || (ip.proto == 17 && len(ip.payload) >= 4) {
		t := &naivePorts{src: binary.BigEndian.Uint16(ip.payload[0:2]), dst: binary.BigEndian.Uint16(ip.payload[2:4])}
		if ip.proto == 6 {
			t.flags = ip.payload[13]
		}
		layers = append(layers, t)
		r.srcPort, r.dstPort, r.flags = t.src, t.dst, t.flags
		if ip.more {
			n.frags[key] = *t
		}
	}
	_ = layers
	return r, nil
}

// TestNaiveBaselineAgrees keeps the baseline honest: on the frames it
// handles it must find what Decode finds.
func TestNaiveBaselineAgrees(t *testing.T) {
	frames := decBenchFrames(t)
	d, n := NewDecoder(DecoderOptions{}), newNaiveDecoder()
	for _, f := range frames {
		if !f.naive {
			continue
		}
		var p Packet
		d.Decode(f.data, f.info, &p)
		r, err := n.decode(f.data)
		if err != nil {
			t.Fatalf("%s: naive: %v", f.name, err)
		}
		if r.src.Unmap().As16() != p.Src || r.dst.As16() != p.Dst || r.proto != p.Proto ||
			r.srcPort != p.SrcPort || r.dstPort != p.DstPort || r.flags != p.TCPFlags {
			t.Errorf("%s: naive %+v, Decode %+v", f.name, r, p)
		}
	}
}
