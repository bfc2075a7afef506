package ingest

import (
	"io"
	"net/netip"
	"testing"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	pb "github.com/flowsql/flowsql/internal/pktbuild"
)

// frameSource is a capture.Source over prepared frames. It copies each
// frame into one reused buffer, like the file and ring sources, so code
// that keeps the slice past the next call would fail the tests.
type frameSource struct {
	ifs    []capture.Interface
	frames []frame
	i      int
	endErr error // returned after the last frame instead of io.EOF
	buf    []byte
}

type frame struct {
	data []byte
	info capture.PacketInfo
}

func (s *frameSource) NextPacket() ([]byte, capture.PacketInfo, error) {
	if s.i == len(s.frames) {
		if s.endErr != nil {
			return nil, capture.PacketInfo{}, s.endErr
		}
		return nil, capture.PacketInfo{}, io.EOF
	}
	f := s.frames[s.i]
	s.i++
	clear(s.buf)
	s.buf = append(s.buf[:0], f.data...)
	return s.buf, f.info, nil
}

func (s *frameSource) Interfaces() []capture.Interface { return s.ifs }
func (s *frameSource) Close() error                    { return nil }

// frameOf builds an Ethernet frame for a generated event: ARP for non-IP,
// a cut IPv4 header for a parse error, and for IP the packet's addresses,
// protocol and transport header (cut off when !HasTransport).
func frameOf(ev *event) frame {
	var layers []pb.Layer
	cut := 0
	switch ev.res {
	case ResultNonIP:
		layers = []pb.Layer{pb.Ethernet{}, pb.ARP{}}
	case ResultParseError:
		layers = []pb.Layer{pb.Ethernet{Type: pb.EtherTypeIPv4}, pb.Payload{0x45, 0, 0}}
	default:
		p := &ev.p
		src, dst := netip.AddrFrom16(p.Src).Unmap(), netip.AddrFrom16(p.Dst).Unmap()
		proto := p.Proto
		if proto == 0 || (!p.IPv4 && (proto == 43 || proto == 44 || proto == 60)) {
			proto = 253 // 0 means "from the next layer" to pktbuild, and IPv6 extension headers need a body
		}
		layers = []pb.Layer{pb.Ethernet{}}
		hdr := 14
		if p.IPv4 {
			layers = append(layers, pb.IPv4{Src: src, Dst: dst, Proto: proto})
			hdr += 20
		} else {
			layers = append(layers, pb.IPv6{Src: src, Dst: dst, NextHeader: proto})
			hdr += 40
		}
		switch proto {
		case protoTCP:
			layers = append(layers, pb.TCP{SrcPort: p.SrcPort, DstPort: p.DstPort, Flags: p.TCPFlags})
		case protoUDP:
			layers = append(layers, pb.UDP{SrcPort: p.SrcPort, DstPort: p.DstPort})
		case protoICMP:
			layers = append(layers, pb.ICMP{Type: p.ICMPType})
		case protoICMPv6:
			layers = append(layers, pb.ICMPv6{Type: p.ICMPType})
		default:
			layers = append(layers, pb.Payload("opaque payload"))
		}
		if !p.HasTransport {
			cut = hdr
		}
	}
	data := pb.MustBuild(layers...)
	orig := uint32(len(data))
	if ev.res == ResultIP {
		orig = max(orig, ev.p.Len)
	}
	if cut > 0 {
		data = data[:cut]
	}
	return frame{data: data, info: capture.PacketInfo{Timestamp: ev.ts, CapLen: uint32(len(data)),
		OrigLen: orig, Link: capture.LinkEthernet, Dir: ev.p.Dir}}
}

// pipelineCase is a generated multi-interface source and what it should
// produce: the model's blocks per interface name and the read counters.
type pipelineCase struct {
	src    *frameSource
	names  []string // resolved name per source interface
	blocks map[string][]*columnar.Block
	counts map[string]Counts
}

// newPipelineCase generates n frames spread over the given interfaces.
func newPipelineCase(seed uint64, n int, ivSec int64, ifs []capture.Interface, names []string) *pipelineCase {
	g := newStreamGen(seed, ivSec)
	c := &pipelineCase{src: &frameSource{ifs: ifs}, names: names}
	for range n {
		ev := g.next()
		f := frameOf(&ev)
		f.info.Iface = g.r.IntN(len(ifs))
		f.info.Link = ifs[f.info.Iface].Link
		c.src.frames = append(c.src.frames, f)
	}
	c.expect(ivSec)
	return c
}

// expect computes the case's expectations from its frames: each frame is
// decoded by a Decoder of the test's own and fed to the reference model of
// its interface's resolved name.
func (c *pipelineCase) expect(ivSec int64) {
	c.counts = map[string]Counts{}
	c.blocks = map[string][]*columnar.Block{}
	models := map[string]*model{}
	dec := NewDecoder(DecoderOptions{})
	for _, f := range c.src.frames {
		name := c.names[f.info.Iface]
		if models[name] == nil {
			models[name] = newModel(name, ivSec, nil)
		}
		m, cnt := models[name], c.counts[name]
		cnt.Packets++
		cnt.Bytes += uint64(f.info.OrigLen)
		var p Packet
		switch dec.Decode(f.data, f.info, &p) {
		case ResultIP:
			cnt.IPPackets++
			m.packet(f.info.Timestamp, p)
		case ResultNonIP:
			cnt.NonIP++
			m.nonIP(f.info.Timestamp)
		default:
			cnt.ParseErrors++
			m.parseError(f.info.Timestamp)
		}
		c.counts[name] = cnt
	}
	for name, m := range models {
		c.blocks[name] = m.finish()
		cnt := c.counts[name]
		for _, b := range c.blocks[name] {
			cnt.Blocks++
			cnt.Flows += uint64(b.Len())
		}
		c.counts[name] = cnt
	}
}

// byIface groups blocks by interface, keeping their order.
func byIface(blocks []*columnar.Block) map[string][]*columnar.Block {
	m := map[string][]*columnar.Block{}
	for _, b := range blocks {
		m[b.Iface] = append(m[b.Iface], b)
	}
	return m
}

func (c *pipelineCase) check(t *testing.T, st Stats, sink *blockSink) {
	t.Helper()
	got := byIface(sink.got())
	for name, want := range c.blocks {
		compareBlocks(t, got[name], want)
	}
	for name := range got {
		if c.blocks[name] == nil {
			t.Errorf("blocks for unexpected interface %q", name)
		}
	}
	var total Counts
	seen := map[string]bool{}
	for _, is := range st.Ifaces {
		if seen[is.Name] {
			t.Errorf("interface %q listed twice in Stats", is.Name)
		}
		seen[is.Name] = true
		if want := c.counts[is.Name]; is.Counts != want {
			t.Errorf("Stats for %q:\n got  %+v\n want %+v", is.Name, is.Counts, want)
		}
		total.addCounts(&is.Counts)
	}
	if len(seen) != len(c.counts) {
		t.Errorf("Stats list %d interfaces, want %d", len(seen), len(c.counts))
	}
	if st.Counts != total {
		t.Errorf("Stats totals %+v, want the sum %+v", st.Counts, total)
	}
}
