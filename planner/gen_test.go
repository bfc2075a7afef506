package planner

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

// genConfig describes a synthetic store: for each interface, blocks
// consecutive 5-minute blocks of about flows distinct flows each. Most
// flows are recurring conversations (clients polling the same servers), as
// on a real gateway, so a day holds far fewer distinct flows than rows. Talkers
// (sip) and servers (dip) are drawn with Zipf popularity from fixed
// populations, 70% IPv4 / 30% IPv6; a good share of IPv4 servers are in
// 10.0.0.0/8. Ports follow a heavy-tailed list (443, 53, 80, ...) plus
// random high ports; counters are heavy-tailed, some flows unanswered.
type genConfig struct {
	ifaces     []string
	start      int64 // first block start, unix seconds
	blockLen   int64 // seconds
	blocks     int   // per interface
	flows      int   // per block (before removing duplicate keys)
	sips, dips int   // population sizes
	seed       uint64
	emptyEvery int // every n-th block of an interface has no rows (0: none)
	// pool is the number of recurring conversations (sip, dip, dport,
	// proto), drawn with Zipf popularity for 85% of the flows; the rest are
	// new pairs. 0 means every flow is a new pair.
	pool int
}

var genPorts = []struct {
	port   uint16
	proto  uint8
	weight int
}{
	{443, 6, 400}, {53, 17, 160}, {80, 6, 120}, {443, 17, 50}, {22, 6, 25}, {123, 17, 20},
	{8080, 6, 15}, {25, 6, 10}, {993, 6, 10}, {3389, 6, 5}, {5353, 17, 8}, {0, 1, 12}, {0, 58, 5}, {0, 47, 2},
}

// flowGen draws flows.
type flowGen struct {
	r            *rand.Rand
	sips, dips   [][16]byte
	zs, zd, zc   *rand.Zipf
	convs        []genConv
	portCum      []int
	portTotal    int
	highPortFrac float64
}

type genConv struct {
	s, d  int32
	port  uint16
	proto uint8
}

func mapped4(a, b, c, d byte) [16]byte {
	return [16]byte{10: 0xff, 11: 0xff, 12: a, 13: b, 14: c, 15: d}
}

func v6addr(hi, lo uint64) (x [16]byte) {
	putBE64(x[:8], hi)
	putBE64(x[8:], lo)
	return x
}

func newFlowGen(cfg genConfig) *flowGen {
	r := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x5851f42d4c957f2d))
	g := &flowGen{r: r, highPortFrac: 0.15}
	g.sips = make([][16]byte, cfg.sips)
	for i := range g.sips {
		if r.IntN(10) < 7 {
			g.sips[i] = mapped4(10, byte(r.IntN(4)), byte(r.IntN(256)), byte(1+r.IntN(254)))
		} else {
			g.sips[i] = v6addr(0x20010db800000000|uint64(r.IntN(8))<<16, r.Uint64()>>r.IntN(40))
		}
	}
	g.dips = make([][16]byte, cfg.dips)
	for i := range g.dips {
		switch x := r.IntN(100); {
		case x < 30:
			g.dips[i] = mapped4(10, byte(r.IntN(256)), byte(r.IntN(256)), byte(1+r.IntN(254)))
		case x < 70:
			g.dips[i] = mapped4(byte(11+r.IntN(200)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1+r.IntN(254)))
		default:
			g.dips[i] = v6addr(0x2600000000000000|r.Uint64()>>12, r.Uint64())
		}
	}
	g.zs = rand.NewZipf(r, 1.1, 3, uint64(cfg.sips-1))
	g.zd = rand.NewZipf(r, 1.05, 5, uint64(cfg.dips-1))
	for _, p := range genPorts {
		g.portTotal += p.weight
		g.portCum = append(g.portCum, g.portTotal)
	}
	if cfg.pool > 0 {
		g.convs = make([]genConv, cfg.pool)
		for i := range g.convs {
			c := &g.convs[i]
			c.s, c.d = int32(g.zs.Uint64()), int32(g.zd.Uint64())
			c.port, c.proto = g.port()
		}
		g.zc = rand.NewZipf(r, 1.05, 10, uint64(cfg.pool-1))
	}
	return g
}

func (g *flowGen) port() (uint16, uint8) {
	if g.r.Float64() < g.highPortFrac {
		proto := uint8(6)
		if g.r.IntN(3) == 0 {
			proto = 17
		}
		return uint16(1024 + g.r.IntN(64000)), proto
	}
	x := g.r.IntN(g.portTotal)
	for i, c := range g.portCum {
		if x < c {
			return genPorts[i].port, genPorts[i].proto
		}
	}
	return 443, 6
}

// block fills b with one block's flows.
func (g *flowGen) block(b *columnar.Block, n int) {
	type key struct {
		s, d  [16]byte
		port  uint16
		proto uint8
	}
	seen := make(map[key]bool, n)
	for range n {
		var k key
		if g.convs != nil && g.r.IntN(100) < 85 {
			c := g.convs[g.zc.Uint64()]
			k = key{s: g.sips[c.s], d: g.dips[c.d], port: c.port, proto: c.proto}
		} else {
			k = key{s: g.sips[g.zs.Uint64()], d: g.dips[g.zd.Uint64()]}
			k.port, k.proto = g.port()
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		pout := 1 + uint64(g.r.ExpFloat64()*8)
		if g.r.IntN(50) == 0 {
			pout *= 1000
		}
		pin := pout + uint64(g.r.IntN(3)) - 1
		if g.r.IntN(12) == 0 {
			pin = 0 // unanswered
		}
		size := 60 + uint64(g.r.IntN(1400))
		b.Append(k.s, k.d, k.port, k.proto, pin*size, pout*(60+uint64(g.r.IntN(200))), pin, pout)
	}
}

// genStore writes the configured blocks into db.
func genStore(tb testing.TB, db *columnar.DB, cfg genConfig) {
	tb.Helper()
	genSplit(tb, []*columnar.DB{db}, cfg)
}

// genSplit writes the configured blocks round-robin into dbs: block i of
// every interface goes to dbs[i % len(dbs)].
func genSplit(tb testing.TB, dbs []*columnar.DB, cfg genConfig) {
	tb.Helper()
	g := newFlowGen(cfg)
	var b columnar.Block
	for bi := range cfg.blocks {
		for ii, iface := range cfg.ifaces {
			b.Reset()
			b.Iface, b.Start = iface, cfg.start+int64(bi)*cfg.blockLen
			b.End = b.Start + cfg.blockLen
			b.NonIP = uint64(ii)
			if cfg.emptyEvery == 0 || (bi+ii)%cfg.emptyEvery != cfg.emptyEvery-1 {
				g.block(&b, cfg.flows)
			}
			if err := dbs[bi%len(dbs)].Write(context.Background(), &b); err != nil {
				tb.Fatalf("writing block %s@%d: %v", iface, b.Start, err)
			}
		}
	}
}

// testStart is the first block of the small test stores: a Monday, 00:00 UTC.
var testStart = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)

// smallConfig is the store most tests use: 2 interfaces, 6 hours.
func smallConfig() genConfig {
	return genConfig{
		ifaces: []string{"eth0", "eth1"}, start: testStart.Unix(), blockLen: 300,
		blocks: 72, flows: 150, sips: 60, dips: 300, seed: 1, emptyEvery: 23, pool: 800,
	}
}

// openSmall opens a fresh store with the small data set.
func openSmall(tb testing.TB) *columnar.DB {
	tb.Helper()
	db := columnartest.Open(tb, nil)
	genStore(tb, db, smallConfig())
	return db
}
