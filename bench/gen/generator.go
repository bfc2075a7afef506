package gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/flowsql/flowsql/columnar"
)

// Model constants the package doc explains.
const (
	survivePerMille = 900  // a long-lived flow goes on into the next block
	carryCap        = 0.6  // at most this share of a block's rows is carried
	rowJitter       = 0.05 // block sizes vary by ±5% around the curve
	peakHour        = 14.0 // local hour of the diurnal peak
	weekendFactor   = 0.7  // activity on Saturdays and Sundays
	drawsPerRow     = 20   // ErrKeySpace after this many draws per row
)

// Generator produces a dataset block by block, in time order and, within a
// time, in the order of Config.Ifaces. It is not safe for concurrent use.
type Generator struct {
	cfg    Config
	pop    *population
	ifs    []*ifaceGen
	blocks int   // per interface
	next   int   // index of the next block over all interfaces
	ivSec  int64 // interval in seconds
	start  int64 // first block start, unix seconds

	// Set by Next for the block it returned.
	lastCarried, lastMerged int
}

// ifaceGen is one interface's state: its clients, its random stream and the
// long-lived flows it carries into the next block.
type ifaceGen struct {
	name    string
	r       *rand.Rand
	cm      countModel
	cl      *clients
	rows    map[uint64]int32 // key -> row of the block being built
	live    []liveFlow       // long-lived flows of the last block
	spare   []liveFlow       // the next block's, being built
	nblocks int              // blocks made so far
}

// liveFlow is a long-lived connection: its key, and its counters when it
// started at volume factor vol.
type liveFlow struct {
	key  uint64
	base counters
	vol  float64
}

// New returns a Generator for cfg, or an error wrapping ErrInvalidConfig.
func New(cfg Config) (*Generator, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:    cfg,
		blocks: int(cfg.blocksPerIface()),
		ivSec:  int64(cfg.Interval / time.Second),
		start:  cfg.Start.Unix(),
	}
	g.pop = newPopulation(&g.cfg)
	maxRows := cfg.maxRows()
	for _, name := range cfg.Ifaces {
		h := nameHash(name)
		r := rand.New(rand.NewPCG(cfg.Seed^h, h))
		ig := &ifaceGen{
			name:  name,
			r:     r,
			cl:    newClients(&g.cfg, name, r, g.pop.siteULA),
			rows:  make(map[uint64]int32, maxRows),
			live:  make([]liveFlow, 0, maxRows),
			spare: make([]liveFlow, 0, maxRows),
		}
		ig.cm = countModel{r: r, maxPkts: float64(maxPktRate * g.ivSec), pings: uint64(g.ivSec)}
		g.ifs = append(g.ifs, ig)
	}
	return g, nil
}

// Config returns the configuration with every default filled in and Start
// aligned to the interval.
func (g *Generator) Config() Config { return g.cfg }

// Total returns the number of blocks the generator makes: one per interface
// per interval.
func (g *Generator) Total() int { return g.blocks * len(g.ifs) }

// MaxRows bounds the rows of any block.
func (g *Generator) MaxRows() int { return g.cfg.maxRows() }

// Next fills b (after b.Reset) with the next block and reports true, or
// reports false when every block has been made. b's slices are reused, so
// a caller that keeps rows must copy them. The only error is one wrapping
// ErrKeySpace.
func (g *Generator) Next(b *columnar.Block) (bool, error) {
	if g.next >= g.Total() {
		return false, nil
	}
	ig := g.ifs[g.next%len(g.ifs)]
	start := g.start + int64(g.next/len(g.ifs))*g.ivSec
	g.next++
	if err := g.fill(ig, b, start); err != nil {
		return false, err
	}
	return true, nil
}

// activity is the relative volume of traffic at block start: the diurnal
// cosine, peaking at 14:00 local time, times the weekend factor.
func (g *Generator) activity(start int64) float64 {
	t := time.Unix(start+g.ivSec/2, 0).In(g.cfg.Start.Location())
	hour := float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600
	a := 1 + g.cfg.Diurnal*math.Cos(2*math.Pi*(hour-peakHour)/24)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		a *= weekendFactor
	}
	return a
}

// fill makes one block of interface ig.
func (g *Generator) fill(ig *ifaceGen, b *columnar.Block, start int64) error {
	r := ig.r
	b.Reset()
	reserve(b, g.cfg.maxRows())
	b.Iface, b.Start, b.End = ig.name, start, start+g.ivSec
	act := g.activity(start)
	n := int(math.Round(float64(g.cfg.FlowsPerBlock) * act * (1 + rowJitter*(2*r.Float64()-1))))
	n = max(1, min(n, g.cfg.maxRows()))
	vol := 0.6 + 0.4*act
	clear(ig.rows)
	ig.spare = ig.spare[:0]

	// Long-lived flows of the last block that go on.
	carried := 0
	limit := int(carryCap * float64(n))
	for _, lf := range ig.live {
		if carried >= limit {
			break
		}
		if !ig.cm.chance(survivePerMille) {
			continue
		}
		c := lf.base.scaled(vol/lf.vol*ig.cm.lognormal(1, 0.5), ig.cm.maxPkts)
		g.appendRow(ig, b, lf.key, c)
		ig.spare = append(ig.spare, lf)
		carried++
	}

	// New flows. A draw whose key is already a row adds to it, as a flow
	// table merges connections that differ only in the client port.
	persist := g.cfg.Persist
	pLive := persist * (1000.0/survivePerMille - 1) / (1 - persist)
	if ig.nblocks == 0 {
		pLive = persist * 1000 / survivePerMille // start in the steady state
	}
	liveCut := probCut(pLive)
	merged, draws := 0, 0
	for b.Len() < n {
		if draws++; draws > drawsPerRow*n+1000 {
			return fmt.Errorf("%w: iface %q block %d: %d distinct flows after %d draws, want %d (raise Clients or Servers)",
				ErrKeySpace, ig.name, start, b.Len(), draws-1, n)
		}
		key, prof := g.drawKey(ig)
		c := ig.cm.draw(prof, uint8(key>>1&3), key&1 == 1, vol)
		if row, ok := ig.rows[key]; ok {
			b.BytesIn[row] += c.bytesIn
			b.BytesOut[row] += c.bytesOut
			b.PacketsIn[row] += c.pktsIn
			b.PacketsOut[row] += c.pktsOut
			merged++
			continue
		}
		g.appendRow(ig, b, key, c)
		if uint32(r.Uint64()) < liveCut {
			ig.spare = append(ig.spare, liveFlow{key: key, base: c, vol: vol})
		}
	}
	ig.live, ig.spare = ig.spare, ig.live
	ig.nblocks++

	b.NonIP = uint64(float64(g.ivSec) * (0.2 + 0.2*r.Float64())) // ARP, LLDP, STP
	if ig.cm.chance(20) {
		b.ParseErrors = 1
	}
	g.lastCarried, g.lastMerged = carried, merged
	return nil
}

// reserve grows b's slices to hold n rows, so that filling blocks of any
// size up to n does not allocate.
func reserve(b *columnar.Block, n int) {
	if cap(b.SIP) >= n && cap(b.DIP) >= n && cap(b.DPort) >= n && cap(b.Proto) >= n &&
		cap(b.BytesIn) >= n && cap(b.BytesOut) >= n && cap(b.PacketsIn) >= n && cap(b.PacketsOut) >= n {
		return
	}
	b.SIP = slices.Grow(b.SIP, n)
	b.DIP = slices.Grow(b.DIP, n)
	b.DPort = slices.Grow(b.DPort, n)
	b.Proto = slices.Grow(b.Proto, n)
	b.BytesIn = slices.Grow(b.BytesIn, n)
	b.BytesOut = slices.Grow(b.BytesOut, n)
	b.PacketsIn = slices.Grow(b.PacketsIn, n)
	b.PacketsOut = slices.Grow(b.PacketsOut, n)
}

// appendRow adds the row of key with counters c.
func (g *Generator) appendRow(ig *ifaceGen, b *columnar.Block, key uint64, c counters) {
	ig.rows[key] = int32(b.Len())
	src, dst := uint32(key>>42), uint32(key>>20)&(1<<22-1)
	v6 := key&1 == 1
	b.Append(g.addr(ig, src, v6), g.addr(ig, dst, v6), uint16(key>>4), protoNumber(uint8(key>>1&3), v6),
		c.bytesIn, c.bytesOut, c.pktsIn, c.pktsOut)
}

// addr returns the address of endpoint id in one family.
func (g *Generator) addr(ig *ifaceGen, id uint32, v6 bool) [16]byte {
	var a *addrs
	switch id >> idBits {
	case kindClient:
		a = &ig.cl.addrs
	case kindServer:
		a = &g.pop.servers
	case kindInfra:
		a = &g.pop.infra
	default:
		a = &g.pop.scanners
	}
	if v6 {
		return a.v6[id&idMask]
	}
	return a.v4[id&idMask]
}
