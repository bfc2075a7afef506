package columnar_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"github.com/flowsql/flowsql/columnar"
)

// flowGen makes realistic synthetic flow blocks, deterministic for a seed:
// a gateway-like interface with a Zipf-popular set of clients (sip) and a
// larger Zipf-popular set of servers (dip), about 70% IPv4 and 30% IPv6,
// heavy-tailed server ports (443, 80, 53, ... plus ephemeral and random
// high ports) and heavy-tailed counters where most flows are a few small
// packets and a few elephants pass 2^32 bytes.
type flowGen struct {
	r                *rand.Rand
	clients, servers [][16]byte
	zc, zs, zp       *rand.Zipf
}

var commonPorts = []struct {
	port   uint16
	proto  uint8
	weight int
}{
	{443, 6, 380}, {53, 17, 150}, {80, 6, 110}, {443, 17, 60}, {123, 17, 20}, {22, 6, 20},
	{25, 6, 10}, {993, 6, 10}, {8080, 6, 15}, {8443, 6, 10}, {3478, 17, 10}, {5353, 17, 10},
	{1900, 17, 5}, {853, 6, 5}, {3389, 6, 5}, {5228, 6, 10}, {0, 1, 15}, {0, 58, 5},
}

func newFlowGen(seed uint64) *flowGen {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &flowGen{r: r}
	g.clients = make([][16]byte, 8000)
	for i := range g.clients {
		if r.IntN(10) < 7 {
			g.clients[i] = v4(10, byte(r.IntN(4)), byte(r.IntN(256)), byte(1+r.IntN(254)))
		} else {
			g.clients[i] = v6(0x20010db8_00010000|uint64(r.IntN(16)), r.Uint64())
		}
	}
	g.servers = make([][16]byte, 60000)
	for i := range g.servers {
		if r.IntN(10) < 7 {
			g.servers[i] = v4(byte(1+r.IntN(223)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)))
		} else {
			g.servers[i] = v6(0x2000000000000000|r.Uint64()>>4, r.Uint64())
		}
	}
	g.zc = rand.NewZipf(r, 1.1, 2, uint64(len(g.clients)-1))
	g.zs = rand.NewZipf(r, 1.05, 4, uint64(len(g.servers)-1))
	g.zp = rand.NewZipf(r, 1.2, 1, 64510)
	return g
}

func v4(a, b, c, d byte) [16]byte {
	return [16]byte{10: 0xff, 11: 0xff, 12: a, 13: b, 14: c, 15: d}
}

func v6(hi, lo uint64) (x [16]byte) {
	binary.BigEndian.PutUint64(x[:8], hi)
	binary.BigEndian.PutUint64(x[8:], lo)
	return x
}

func isV4(a [16]byte) bool {
	return a[10] == 0xff && a[11] == 0xff && binary.BigEndian.Uint64(a[:8]) == 0
}

// block returns a block of n flows starting at start.
func (g *flowGen) block(iface string, start int64, n int) *columnar.Block {
	b := &columnar.Block{Iface: iface, Start: start, End: start + 300, NonIP: uint64(g.r.IntN(50)), ParseErrors: uint64(g.r.IntN(3))}
	for range n {
		sip := g.clients[g.zc.Uint64()]
		dip := g.servers[g.zs.Uint64()]
		if isV4(sip) != isV4(dip) { // keep families consistent within a flow
			dip = g.servers[(g.zs.Uint64()*7+1)%uint64(len(g.servers))]
			if isV4(sip) != isV4(dip) {
				sip, dip = dip, sip
			}
		}
		dport, proto := g.port()
		pout := g.pareto(1.3, 1)
		pin := g.pareto(1.2, 1)
		if g.r.IntN(20) == 0 {
			pin = 0 // unanswered
		}
		bout := pout * uint64(40+g.r.IntN(200))
		bin := pin * uint64(60+g.r.IntN(1400))
		if g.r.IntN(5000) == 0 { // elephant download: up to ~1.5 GB in the block
			pin = 1e5 + uint64(g.r.IntN(1e6))
			bin = pin * 1400
		}
		b.Append(sip, dip, dport, proto, bin, bout, pin, pout)
	}
	return b
}

func (g *flowGen) port() (uint16, uint8) {
	x := g.r.IntN(1000)
	if x >= 850 { // random high ports, heavy-tailed towards low numbers
		p := uint16(1024 + g.zp.Uint64())
		if g.r.IntN(3) == 0 {
			p = uint16(32768 + g.r.IntN(28232)) // ephemeral (P2P, reversed flows)
		}
		proto := uint8(6)
		if g.r.IntN(3) == 0 {
			proto = 17
		}
		return p, proto
	}
	for _, c := range commonPorts {
		if x < c.weight {
			return c.port, c.proto
		}
		x -= c.weight
	}
	return 443, 6
}

// pareto draws a heavy-tailed count >= min.
func (g *flowGen) pareto(alpha float64, min uint64) uint64 {
	u := 1 - g.r.Float64()
	v := float64(min) / math.Pow(u, 1/alpha)
	if v > 1e7 {
		v = 1e7
	}
	return uint64(v)
}
