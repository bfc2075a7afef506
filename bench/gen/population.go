package gen

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"slices"
)

// Every endpoint is dual-stack: it has an IPv4 and an IPv6 address, and a
// flow uses one family for both ends (pairFamily).

// Endpoint kinds, the top 2 bits of an endpoint id.
const (
	kindClient  = 0 // internal client of one interface
	kindServer  = 1 // server shared by every interface (internal or external)
	kindInfra   = 2 // resolver, NTP server, log collector
	kindScanner = 3 // external scanner
)

// endpoint ids: kind<<idBits | index.
const (
	idBits  = 20
	idMask  = 1<<idBits - 1
	numScan = 64
)

func endpoint(kind, index int) uint32 { return uint32(kind)<<idBits | uint32(index) }

// addrs is one kind's addresses, by index.
type addrs struct{ v4, v6 [][16]byte }

func (a *addrs) add(v4, v6 [16]byte) {
	a.v4 = append(a.v4, v4)
	a.v6 = append(a.v6, v6)
}

// population is what every interface shares: servers, infrastructure and
// scanners, with the servers' popularity and primary services.
type population struct {
	servers, infra, scanners addrs
	serverRank               aliasTable // Zipf over servers
	primary                  []uint16   // per server: index into serviceTable or internalTable
	primaryPort              []uint16   // per server: its port (a fixed high port for portHigh)
	internal                 []bool     // per server: inside the site
	siteULA                  uint64     // fdXX:XXXX:XXXX::/48 of the site's servers
	tables                   drawTables
}

// v4 returns the IPv4-mapped form of a.b.c.d.
func v4(a, b, c, d byte) [16]byte {
	return [16]byte{10: 0xff, 11: 0xff, 12: a, 13: b, 14: c, 15: d}
}

// v6 returns the address with the given upper and lower 64 bits.
func v6(hi, lo uint64) (x [16]byte) {
	binary.BigEndian.PutUint64(x[:8], hi)
	binary.BigEndian.PutUint64(x[8:], lo)
	return x
}

// ulaPrefix returns the upper 48 bits of an fd00::/8 prefix, from 40 random
// bits, shifted into place of the upper 64.
func ulaPrefix(bits uint64) uint64 { return (0xfd<<40 | bits&(1<<40-1)) << 16 }

// Ranges of external IPv4 servers: the benchmarking block 198.18.0.0/15
// (RFC 2544) and the three documentation blocks (RFC 5737).
var externalV4 = []struct {
	base uint32
	size uint32
}{
	{0xc6120000, 1 << 17}, // 198.18.0.0/15
	{0xc0000200, 256},     // 192.0.2.0/24
	{0xc6336400, 256},     // 198.51.100.0/24
	{0xcb007100, 256},     // 203.0.113.0/24
}

// externalV4Total is the number of addresses in externalV4.
const externalV4Total = 1<<17 + 3*256

func newPopulation(cfg *Config) *population {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5e2f_a11c_0ffe_e000))
	p := &population{siteULA: ulaPrefix(r.Uint64()), tables: newDrawTables(cfg)}
	used := make(map[[16]byte]bool, 2*cfg.Servers)
	unique := func(f func() [16]byte) [16]byte {
		for {
			a := f()
			if !used[a] {
				used[a] = true
				return a
			}
		}
	}
	// Infrastructure, in the order of the infra* constants.
	addInfra := func(a4, a6 [16]byte) {
		used[a4], used[a6] = true, true
		p.infra.add(a4, a6)
	}
	addScanner := func(a4, a6 [16]byte) {
		used[a4], used[a6] = true, true
		p.scanners.add(a4, a6)
	}
	site := func(c, d byte, iid uint64) {
		addInfra(v4(10, 254, c, d), v6(p.siteULA, iid))
	}
	site(0, 53, 0x53)
	site(1, 53, 0x1053)
	addInfra(v4(192, 0, 2, 53), v6(0x2001_0db8_0053_0000, 0x53))
	addInfra(v4(198, 51, 100, 53), v6(0x2001_0db8_0053_0001, 0x53))
	site(0, 123, 0x123)
	site(1, 123, 0x1123)
	addInfra(v4(192, 0, 2, 123), v6(0x2001_0db8_0123_0000, 0x123))
	addInfra(v4(198, 51, 100, 123), v6(0x2001_0db8_0123_0001, 0x123))
	site(2, 14, 0x514)

	// Scanners: 203.0.113.192/26 and 2001:db8:bad::/48.
	for i := range numScan {
		addScanner(v4(203, 0, 113, byte(192+i)), v6(0x2001_0db8_0bad_0000, uint64(0x1000+i*0x11)))
	}

	n := cfg.Servers
	p.primary = make([]uint16, n)
	p.primaryPort = make([]uint16, n)
	p.internal = make([]bool, n)
	extPorts := newAliasTable(serviceWeights(serviceTable))
	intPorts := newAliasTable(serviceWeights(internalTable))
	topPorts := newAliasTable(serviceWeights(topTable))
	popular := popularServers(n)
	// 512 providers' /48s under 2001:db8::/32, each with a few /64s.
	providers := make([]uint64, 512)
	for i := range providers {
		providers[i] = 0x2001_0db8<<32 | uint64(r.IntN(0xffff))<<16
		switch providers[i] >> 16 & 0xffff {
		case 0x0053, 0x0123, 0x0bad: // the public resolvers', NTP servers' and scanners' /48s
			providers[i] ^= 1 << 20
		}
	}
	for i := range n {
		if i >= popular && r.IntN(10) == 0 { // an internal server in 10.250.0.0/14 and the site ULA
			p.internal[i] = true
			a4 := unique(func() [16]byte {
				return v4(10, byte(250+r.IntN(4)), byte(r.IntN(256)), byte(1+r.IntN(254)))
			})
			a6 := unique(func() [16]byte {
				return v6(p.siteULA|uint64(0x100+r.IntN(64)), uint64(1+r.IntN(0xffff)))
			})
			p.servers.add(a4, a6)
			p.primary[i] = uint16(intPorts.draw(r.Uint64()))
			p.primaryPort[i] = internalTable[p.primary[i]].port
			continue
		}
		a4 := unique(func() [16]byte {
			x := uint32(r.IntN(externalV4Total))
			for _, rg := range externalV4 {
				if x < rg.size {
					x += rg.base
					break
				}
				x -= rg.size
			}
			return v4(byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
		})
		a6 := unique(func() [16]byte {
			hi := providers[r.IntN(len(providers))] | uint64(r.IntN(8))
			if r.IntN(2) == 0 { // a configured, low interface id
				return v6(hi, uint64(1+r.IntN(0xfff)))
			}
			return v6(hi, r.Uint64()) // a random one
		})
		p.servers.add(a4, a6)
		if i < popular {
			top := topTable[topPorts.draw(r.Uint64())]
			p.primary[i] = uint16(slices.IndexFunc(serviceTable, func(s service) bool { return s.port == top.port && s.class == top.class }))
		} else {
			p.primary[i] = uint16(extPorts.draw(r.Uint64()))
		}
		if port := serviceTable[p.primary[i]].port; port != portHigh {
			p.primaryPort[i] = port
		} else {
			p.primaryPort[i] = randomHighPort(r.Uint64())
		}
	}
	p.serverRank = newAliasTable(zipfWeights(n, cfg.ZipfS))

	return p
}

// serviceWeights returns the weights of a table.
func serviceWeights(t []service) []float64 {
	w := make([]float64, len(t))
	for i, s := range t {
		w[i] = s.weight
	}
	return w
}

// randomHighPort maps a random word to a port from 1024 to 65535 whose
// density falls with the port number: registered service ports (1024-49151)
// are four times as likely as ephemeral ones, and lower ones more likely.
func randomHighPort(u uint64) uint16 {
	x := u >> 32 // uniform 32 bits
	y := x * x >> 32
	return uint16(1024 + (y*64512)>>32) // squared: density ~ 1/sqrt
}

// clients is one interface's client population.
type clients struct {
	addrs
	rank aliasTable
}

// newClients places n clients of the interface named name in 10.X.0.0/16
// (X from the name, below 250) in /24s of up to 200 hosts, and in one /64
// per /24 under an fd00::/8 prefix of the interface. Seven in ten IPv6
// interface ids are random (SLAAC privacy addresses), the rest small
// (DHCPv6).
func newClients(cfg *Config, name string, r *rand.Rand, siteULA uint64) *clients {
	h := nameHash(name)
	x := byte(h % 250)
	ula := ulaPrefix(h >> 8)
	if ula == siteULA {
		ula ^= 1 << 16
	}
	n := cfg.Clients
	subnets := (n + 199) / 200
	c := &clients{}
	used := make(map[uint16]bool, n)
	for range n {
		var slot uint16
		for {
			slot = uint16(r.IntN(subnets))<<8 | uint16(2+r.IntN(253))
			if !used[slot] {
				used[slot] = true
				break
			}
		}
		iid := 0x1000 + uint64(slot&0xff)
		if r.IntN(10) < 7 {
			iid = r.Uint64() | 1<<57 // never collides with a small id
		}
		c.add(v4(10, x, byte(slot>>8), byte(slot)), v6(ula|uint64(slot>>8), iid))
	}
	c.rank = newAliasTable(zipfWeights(n, cfg.ZipfS))
	return c
}

// nameHash is FNV-1a of an interface name: it seeds the interface's random
// stream, so adding an interface does not change the others' data.
func nameHash(name string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(name))
	return f.Sum64()
}
