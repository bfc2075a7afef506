package ingest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
)

// This file holds the slow reference model of the aggregator, written
// independently of flowtable*.go, orient.go and direction.go from the rules
// of DESIGN §2: plain maps keyed by netip.Addr, one packet at a time.

type modelKey struct {
	sip, dip netip.Addr
	dport    uint16
	proto    uint8
}

type modelCounts struct{ bytesIn, bytesOut, pktsIn, pktsOut uint64 }

type modelBlock struct {
	start       int64
	flows       map[modelKey]*modelCounts
	nonIP, perr uint64
}

// model aggregates events like Aggregator, slowly.
type model struct {
	iface  string
	ivSec  int64
	local  []netip.Prefix
	cur    *modelBlock
	prev   *modelBlock // the block of the interval just before cur, or nil
	blocks []*columnar.Block
}

func newModel(iface string, ivSec int64, local []netip.Prefix) *model {
	return &model{iface: iface, ivSec: ivSec, local: local}
}

// blockStart is floor(ts / interval) * interval, in seconds.
func (m *model) blockStart(ts int64) int64 {
	iv := m.ivSec * 1_000_000_000
	q := ts / iv
	if q*iv > ts {
		q--
	}
	return q * m.ivSec
}

// at returns the block a frame at ts belongs to, rotating if needed.
func (m *model) at(ts int64) *modelBlock {
	s := m.blockStart(ts)
	if m.cur != nil && s <= m.cur.start {
		return m.cur // same interval, or out of order: the open block
	}
	if m.cur != nil {
		m.emit()
		if m.cur.start+m.ivSec == s {
			m.prev = m.cur
		} else {
			m.prev = nil
		}
	}
	m.cur = &modelBlock{start: s, flows: map[modelKey]*modelCounts{}}
	return m.cur
}

func (m *model) nonIP(ts int64)      { m.at(ts).nonIP++ }
func (m *model) parseError(ts int64) { m.at(ts).perr++ }

func modelAddr(a [16]byte) netip.Addr { return netip.AddrFrom16(a).Unmap() }

func (m *model) packet(ts int64, p Packet) {
	b := m.at(ts)
	src, dst := modelAddr(p.Src), modelAddr(p.Dst)
	fwd := modelKey{src, dst, p.DstPort, p.Proto}
	rev := modelKey{dst, src, p.SrcPort, p.Proto}
	var key modelKey
	var clientSent bool
	switch {
	case b.flows[fwd] != nil:
		key, clientSent = fwd, true
	case b.flows[rev] != nil:
		key, clientSent = rev, false
	case m.prev != nil && m.prev.flows[fwd] != nil:
		key, clientSent = fwd, true
	case m.prev != nil && m.prev.flows[rev] != nil:
		key, clientSent = rev, false
	default:
		clientSent = modelSenderIsClient(p, dst)
		key = rev
		if clientSent {
			key = fwd
		}
	}
	c := b.flows[key]
	if c == nil {
		c = &modelCounts{}
		b.flows[key] = c
	}
	out := clientSent
	switch {
	case p.Dir == capture.DirOutbound:
		out = true
	case p.Dir == capture.DirInbound:
		out = false
	default:
		sl, dl := m.isLocal(src), m.isLocal(dst)
		if sl && !dl {
			out = true
		} else if dl && !sl {
			out = false
		}
	}
	if out {
		c.bytesOut += uint64(p.Len)
		c.pktsOut++
	} else {
		c.bytesIn += uint64(p.Len)
		c.pktsIn++
	}
}

func (m *model) isLocal(a netip.Addr) bool {
	for _, p := range m.local {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func modelSenderIsClient(p Packet, dst netip.Addr) bool {
	if p.HasTransport {
		if p.Proto == 6 && p.TCPFlags&0x02 != 0 {
			return p.TCPFlags&0x10 == 0
		}
		clientTypes, serverTypes := []uint8(nil), []uint8(nil)
		switch p.Proto {
		case 1:
			clientTypes = []uint8{8, 10, 13, 15, 17, 42}
			serverTypes = []uint8{0, 14, 16, 18, 43, 3, 4, 5, 11, 12}
		case 58:
			clientTypes = []uint8{128, 133, 135, 139, 160}
			serverTypes = []uint8{129, 140, 161, 1, 2, 3, 4}
		}
		if slices.Contains(clientTypes, p.ICMPType) {
			return true
		}
		if slices.Contains(serverTypes, p.ICMPType) {
			return false
		}
	}
	if dst.IsMulticast() || dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	sEph, dEph := p.SrcPort >= 32768, p.DstPort >= 32768
	switch {
	case sEph && !dEph:
		return true
	case dEph && !sEph:
		return false
	default:
		return p.DstPort <= p.SrcPort // lower port is the server's; equal: sender is client
	}
}

func (m *model) emit() {
	b := &columnar.Block{Iface: m.iface, Start: m.cur.start, End: m.cur.start + m.ivSec,
		NonIP: m.cur.nonIP, ParseErrors: m.cur.perr}
	for k, c := range m.cur.flows {
		b.Append(k.sip.As16(), k.dip.As16(), k.dport, k.proto, c.bytesIn, c.bytesOut, c.pktsIn, c.pktsOut)
	}
	m.blocks = append(m.blocks, b)
}

// finish writes the open block, like Aggregator.Close.
func (m *model) finish() []*columnar.Block {
	if m.cur != nil {
		m.emit()
		m.cur = nil
	}
	return m.blocks
}

// blockSink collects deep copies of the blocks written to it.
type blockSink struct {
	mu     sync.Mutex
	blocks []*columnar.Block
	// failAt, when > 0, makes the failAt-th Write (1-based) and all later
	// ones fail.
	failAt int
	calls  int
}

func (s *blockSink) Write(ctx context.Context, b *columnar.Block) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failAt > 0 && s.calls >= s.failAt {
		return fmt.Errorf("disk full (write %d)", s.calls)
	}
	c := &columnar.Block{Iface: b.Iface, Start: b.Start, End: b.End, NonIP: b.NonIP, ParseErrors: b.ParseErrors}
	for i := range b.Len() {
		c.Append(b.SIP[i], b.DIP[i], b.DPort[i], b.Proto[i], b.BytesIn[i], b.BytesOut[i], b.PacketsIn[i], b.PacketsOut[i])
	}
	s.blocks = append(s.blocks, c)
	return nil
}

func (s *blockSink) got() []*columnar.Block {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.blocks)
}

// row is one flow of a block, for comparisons.
type row struct {
	sip, dip                           [16]byte
	dport                              uint16
	proto                              uint8
	bytesIn, bytesOut, pktsIn, pktsOut uint64
}

func (r row) String() string {
	return fmt.Sprintf("%v->%v:%d/%d in=%d/%d out=%d/%d", modelAddr(r.sip), modelAddr(r.dip), r.dport, r.proto,
		r.pktsIn, r.bytesIn, r.pktsOut, r.bytesOut)
}

// sortedRows returns b's rows sorted by key.
func sortedRows(b *columnar.Block) []row {
	rs := make([]row, b.Len())
	for i := range rs {
		rs[i] = row{b.SIP[i], b.DIP[i], b.DPort[i], b.Proto[i], b.BytesIn[i], b.BytesOut[i], b.PacketsIn[i], b.PacketsOut[i]}
	}
	slices.SortFunc(rs, func(a, b row) int {
		return cmp.Or(bytes.Compare(a.sip[:], b.sip[:]), bytes.Compare(a.dip[:], b.dip[:]),
			cmp.Compare(a.dport, b.dport), cmp.Compare(a.proto, b.proto))
	})
	return rs
}

// compareBlocks reports every difference between the blocks written and
// the model's, which must come in the same order.
func compareBlocks(t *testing.T, got, want []*columnar.Block) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d blocks, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Iface != w.Iface || g.Start != w.Start || g.End != w.End || g.NonIP != w.NonIP || g.ParseErrors != w.ParseErrors {
			t.Errorf("block %d: got %s [%d,%d) nonip=%d perr=%d, want %s [%d,%d) nonip=%d perr=%d", i,
				g.Iface, g.Start, g.End, g.NonIP, g.ParseErrors, w.Iface, w.Start, w.End, w.NonIP, w.ParseErrors)
			continue
		}
		gr, wr := sortedRows(g), sortedRows(w)
		if !slices.Equal(gr, wr) {
			t.Errorf("block %d (start %d): %d rows, want %d", i, g.Start, len(gr), len(wr))
			for j := range max(len(gr), len(wr)) {
				var a, b string
				if j < len(gr) {
					a = gr[j].String()
				}
				if j < len(wr) {
					b = wr[j].String()
				}
				if a != b {
					t.Logf("  row %d: got  %s\n          want %s", j, a, b)
				}
			}
		}
	}
}

// event is one frame of a random stream.
type event struct {
	ts  int64
	res Result
	p   Packet
}

// streamGen makes random packet streams that exercise every rule: few hosts
// (so flows meet their reverse), both families, group destinations, TCP
// flags, ICMP types, ports around the ephemeral boundary, directions, and
// timestamps that advance, step back and jump intervals.
type streamGen struct {
	r     *rand.Rand
	ivNs  int64
	ts    int64
	hosts [2][]netip.Addr // [0] IPv4, [1] IPv6
	group [2][]netip.Addr
}

func newStreamGen(seed uint64, ivSec int64) *streamGen {
	g := &streamGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), ivNs: ivSec * 1e9}
	g.ts = 1_700_000_000*1e9 + g.r.Int64N(g.ivNs)
	for _, s := range []string{"10.0.0.1", "10.0.0.2", "10.1.2.3", "192.0.2.7", "198.51.100.9", "203.0.113.1"} {
		g.hosts[0] = append(g.hosts[0], netip.MustParseAddr(s))
	}
	for _, s := range []string{"2001:db8::1", "2001:db8::2", "2001:db8:1::5", "2a00:1450::200e"} {
		g.hosts[1] = append(g.hosts[1], netip.MustParseAddr(s))
	}
	for _, s := range []string{"224.0.0.251", "239.255.255.250", "255.255.255.255"} {
		g.group[0] = append(g.group[0], netip.MustParseAddr(s))
	}
	for _, s := range []string{"ff02::1", "ff02::fb"} {
		g.group[1] = append(g.group[1], netip.MustParseAddr(s))
	}
	return g
}

var genPorts = []uint16{0, 22, 53, 80, 443, 1024, 5353, 8080, 32767, 32768, 40000, 50000, 65535}

func (g *streamGen) pick(s []netip.Addr) netip.Addr { return s[g.r.IntN(len(s))] }

func (g *streamGen) next() event {
	r := g.r
	switch x := r.IntN(100); {
	case x < 2: // step back, up to two intervals
		g.ts -= r.Int64N(2 * g.ivNs)
	case x < 3: // jump ahead, maybe over empty intervals
		g.ts += r.Int64N(4 * g.ivNs)
	default:
		g.ts += r.Int64N(g.ivNs / 20)
	}
	ev := event{ts: g.ts}
	switch x := r.IntN(100); {
	case x < 3:
		ev.res = ResultNonIP
		return ev
	case x < 5:
		ev.res = ResultParseError
		return ev
	}
	fam := 0
	if r.IntN(10) < 3 {
		fam = 1
	}
	src, dst := g.pick(g.hosts[fam]), g.pick(g.hosts[fam])
	if r.IntN(10) == 0 {
		dst = g.pick(g.group[fam])
	}
	p := &ev.p
	p.Src, p.Dst, p.IPv4 = src.As16(), dst.As16(), fam == 0
	if fam == 1 && r.IntN(50) == 0 { // an IPv6 header carrying IPv4-mapped addresses
		p.Src, p.Dst = g.pick(g.hosts[0]).As16(), g.pick(g.hosts[0]).As16()
	}
	icmp := uint8(1)
	if fam == 1 {
		icmp = 58
	}
	p.HasTransport = r.IntN(10) != 0
	switch x := r.IntN(100); {
	case x < 40:
		p.Proto = 6
		p.TCPFlags = []uint8{0x02, 0x12, 0x10, 0x11, 0x04, 0x18, 0x00, 0x03}[r.IntN(8)]
	case x < 70:
		p.Proto = 17
	case x < 85:
		p.Proto = icmp
		p.ICMPType = uint8(r.IntN(20))
		if fam == 1 || r.IntN(4) == 0 {
			p.ICMPType = []uint8{1, 2, 3, 4, 128, 129, 130, 133, 134, 135, 136, 139, 140, 160, 161, 200}[r.IntN(16)]
		}
	default:
		p.Proto = []uint8{47, 50, 51, 132, 0, 255}[r.IntN(6)]
	}
	if p.Proto == 6 || p.Proto == 17 {
		p.SrcPort, p.DstPort = genPorts[r.IntN(len(genPorts))], genPorts[r.IntN(len(genPorts))]
	}
	p.Dir = capture.Direction(r.IntN(5) / 3 * (1 + r.IntN(2))) // mostly unknown
	p.Len = uint32(40 + r.IntN(1500))
	ev.res = ResultIP
	return ev
}
