package ingest

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/capture"
	pb "github.com/flowsql/flowsql/internal/pktbuild"
	"github.com/flowsql/flowsql/internal/testdata"
)

// fuzzSeedRecords is how many records of each shared capture seed FuzzDecode.
const fuzzSeedRecords = 3

// fuzzSeeds adds the corpus: one frame per link type and encapsulation
// the decoder knows, in their well-formed shapes, plus (when the shared
// corpus is present) the first records of every real capture.
func fuzzSeeds(f *testing.F) {
	a4, b4 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	a6, b6 := netip.MustParseAddr("fe80::1"), netip.MustParseAddr("ff02::fb")
	ip4, ip6 := pb.IPv4{Src: a4, Dst: b4}, pb.IPv6{Src: a6, Dst: b6}
	tcp, udp := pb.TCP{SrcPort: 1, DstPort: 2, Flags: pb.SYN}, pb.UDP{SrcPort: 3, DstPort: 4}
	eth := uint16(capture.LinkEthernet)
	seeds := []struct {
		link   uint16
		layers []pb.Layer
	}{
		// Ethernet and what may sit on it.
		{eth, []pb.Layer{pb.Ethernet{}, ip4, tcp}},
		{eth, []pb.Layer{pb.Ethernet{}, ip6, udp}},
		{eth, []pb.Layer{pb.Ethernet{}, pb.VLAN{TPID: pb.EtherTypeQinQ}, pb.VLAN{ID: 5}, ip4, udp}},
		{eth, []pb.Layer{pb.Ethernet{}, pb.VLAN{}, pb.PPPoE{}, ip6, tcp}},
		{eth, []pb.Layer{pb.Ethernet{}, pb.MPLS{Label: 3}, pb.MPLS{Label: 4}, ip4, tcp}},
		{eth, []pb.Layer{pb.Ethernet{}, pb.ARP{}}},
		// IPv4 options and fragments, IPv6 extension headers.
		{eth, []pb.Layer{pb.Ethernet{}, pb.IPv4{Src: a4, Dst: b4, Options: []byte{1, 1, 1, 0}, MF: true, ID: 7}, udp}},
		{eth, []pb.Layer{pb.Ethernet{}, pb.IPv4{Src: a4, Dst: b4, FragOffset: 3, Proto: 17}, pb.Payload{1, 2, 3, 4}}},
		{eth, []pb.Layer{pb.Ethernet{}, ip6, pb.IPv6Ext{Type: pb.ProtoHopByHop}, pb.IPv6Ext{Type: pb.ProtoRouting, Data: make([]byte, 22)},
			pb.IPv6Frag{More: true, ID: 9}, pb.IPv6Ext{Type: pb.ProtoDstOpts}, tcp}},
		{eth, []pb.Layer{pb.Ethernet{}, ip6, pb.IPv6Frag{Offset: 8, ID: 9, NextHeader: 17}, pb.Payload{1, 2}}},
		{eth, []pb.Layer{pb.Ethernet{}, ip6, pb.AH{}, tcp}},
		{eth, []pb.Layer{pb.Ethernet{}, ip6, pb.ICMPv6{Type: 128}}},
		{eth, []pb.Layer{pb.Ethernet{}, ip4, pb.ICMP{Type: 8}}},
		// Other link types.
		{uint16(capture.LinkSLL), []pb.Layer{pb.SLL{PacketType: pb.SLLOutgoing}, ip4, tcp}},
		{uint16(capture.LinkSLL2), []pb.Layer{pb.SLL2{}, pb.VLAN{}, ip6, udp}},
		{uint16(capture.LinkNull), []pb.Layer{pb.Null{}, ip6, udp}},
		{uint16(capture.LinkLoop), []pb.Layer{pb.Loop{}, ip4, udp}},
		{uint16(capture.LinkRaw), []pb.Layer{ip4, tcp}},
		{uint16(capture.LinkRawBSD), []pb.Layer{ip6, tcp}},
		{uint16(capture.LinkIPv4), []pb.Layer{ip4, udp}},
		{uint16(capture.LinkIPv6), []pb.Layer{ip6, udp}},
	}
	for _, s := range seeds {
		f.Add(s.link, false, pb.MustBuild(s.layers...))
	}
	f.Add(eth, true, []byte{})
	f.Add(uint16(999), false, []byte{0x45})

	root, ok := testdata.Root()
	if !ok {
		return // the shared corpus is optional here
	}
	dir := filepath.Join(root, "pcap")
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); e.IsDir() || !(strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng")) {
			continue
		}
		src, err := capture.OpenFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // unreadable files are the capture reader's business
		}
		for range fuzzSeedRecords {
			data, info, err := src.NextPacket()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					f.Logf("%s: %v", e.Name(), err)
				}
				break
			}
			f.Add(uint16(info.Link), info.VLANOffloaded, append([]byte(nil), data...))
		}
		src.Close()
	}
}

// FuzzDecode feeds arbitrary bytes under any link type to Decode: it must
// not panic and its Packet must be consistent.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, link uint16, vlanOff bool, data []byte) {
		d := NewDecoder(DecoderOptions{})
		info := capture.PacketInfo{
			Link: capture.LinkType(link), CapLen: uint32(len(data)), OrigLen: uint32(len(data)) + 7,
			VLANOffloaded: vlanOff, Dir: capture.DirInbound, Timestamp: 1,
		}
		var p Packet
		res := d.Decode(data, info, &p)
		fuzzCheck(t, res, &p, info)

		// Decoding again (now with the fragment table primed) gives the
		// same answer: a first fragment is still a first fragment.
		var p2 Packet
		if res2 := d.Decode(data, info, &p2); res2 != res || p2 != p {
			t.Fatalf("second decode differs: %v %+v, then %v %+v", res, p, res2, p2)
		}
		// Every cut of the frame decodes without panicking.
		if len(data) <= 256 {
			for n := range data {
				var q Packet
				fuzzCheck(t, d.Decode(data[:n], info, &q), &q, info)
			}
		}
	})
}

// fuzzCheck asserts the invariants of one decoded packet.
func fuzzCheck(t *testing.T, res Result, p *Packet, info capture.PacketInfo) {
	t.Helper()
	if wantLen := info.OrigLen; p.Len != wantLen {
		t.Fatalf("Len = %d, want %d", p.Len, wantLen)
	}
	sll := info.Link == capture.LinkSLL || info.Link == capture.LinkSLL2
	if p.Dir != info.Dir && !(sll && p.Dir == capture.DirOutbound) {
		t.Fatalf("Dir = %v with link %d and source dir %v", p.Dir, info.Link, info.Dir)
	}
	switch res {
	case ResultIP:
	case ResultNonIP, ResultParseError:
		if *p != (Packet{Len: p.Len, Dir: p.Dir}) {
			t.Fatalf("result %v left fields set: %+v", res, p)
		}
		return
	default:
		t.Fatalf("unknown result %v", res)
	}
	if p.Proto != 6 && p.Proto != 17 && (p.SrcPort != 0 || p.DstPort != 0) {
		t.Fatalf("ports %d/%d for protocol %d", p.SrcPort, p.DstPort, p.Proto)
	}
	if p.IPv4 && !netip.AddrFrom16(p.Src).Is4In6() {
		t.Fatalf("IPv4 packet with source %x not IPv4-mapped", p.Src)
	}
	if p.IPv4 && !netip.AddrFrom16(p.Dst).Is4In6() {
		t.Fatalf("IPv4 packet with destination %x not IPv4-mapped", p.Dst)
	}
	if p.Proto != 6 && p.TCPFlags != 0 {
		t.Fatalf("TCP flags %#x for protocol %d", p.TCPFlags, p.Proto)
	}
	if p.Proto != 1 && p.Proto != 58 && p.ICMPType != 0 {
		t.Fatalf("ICMP type %d for protocol %d", p.ICMPType, p.Proto)
	}
}
