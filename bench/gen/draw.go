package gen

import "math"

// Flow keys pack a row's identity into 64 bits so the block under
// construction can find a repeated key with one map lookup:
//
//	┌──────────┬──────────┬──────────┬──────┬───────┬────┐
//	│ src <22> │ dst <22> │ port <16>│ 0 <1>│ class │ v6 │
//	│ 63..42   │ 41..20   │ 19..4    │ 3    │ 2..1  │ 0  │
//	└──────────┴──────────┴──────────┴──────┴───────┴────┘
//
// src and dst are endpoint ids (kind <2> | index <20>); the addresses and
// the protocol number follow from them and the family.
func flowKey(src, dst uint32, port uint16, class uint8, v6 bool) uint64 {
	k := uint64(src)<<42 | uint64(dst)<<20 | uint64(port)<<4 | uint64(class)<<1
	if v6 {
		k |= 1
	}
	return k
}

// drawTables are the samplers shared by every interface.
type drawTables struct {
	fresh    aliasTable   // serviceTable
	infraSvc aliasTable   // infraTable
	infraSrv []aliasTable // per infraTable entry: its servers
	scanPort aliasTable   // scanPorts, Zipf
	v6Cut    uint64       // a pair talks IPv6 when its hash is below
	seed     uint64
}

func newDrawTables(cfg *Config) drawTables {
	t := drawTables{
		fresh:    newAliasTable(serviceWeights(serviceTable)),
		scanPort: newAliasTable(zipfWeights(len(scanPorts), 1)),
		seed:     cfg.Seed,
	}
	w := make([]float64, len(infraTable))
	for i, s := range infraTable {
		w[i] = s.weight
		t.infraSrv = append(t.infraSrv, newAliasTable(s.weights))
	}
	t.infraSvc = newAliasTable(w)
	switch {
	case cfg.IPv6Share >= 1:
		t.v6Cut = math.MaxUint64
	case cfg.IPv6Share > 0:
		t.v6Cut = uint64(cfg.IPv6Share * (1 << 64))
	}
	return t
}

// pairV6 decides the family of a client-server pair: the same pair always
// uses the same one, as a dual-stack client keeps to what worked.
func (t *drawTables) pairV6(src, dst uint32) bool {
	if t.v6Cut == math.MaxUint64 {
		return true
	}
	return mix64(t.seed^uint64(src)<<32^uint64(dst)) < t.v6Cut
}

// mix64 is the SplitMix64 finalizer: a bijection that spreads every input
// bit over the output.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// perMille maps a random word to [0, 1000).
func perMille(u uint64) int { return int((u >> 32) * 1000 >> 32) }

// drawKey draws one connection: its key and the profile of its counters.
func (g *Generator) drawKey(ig *ifaceGen) (uint64, profile) {
	r, p, t := ig.r, g.pop, &g.pop.tables
	client := endpoint(kindClient, ig.cl.rank.draw(r.Uint64()))
	x := perMille(r.Uint64())
	switch {
	case x < icmpPerMille:
		server := endpoint(kindServer, p.serverRank.draw(r.Uint64()))
		return flowKey(client, server, 0, classICMP, t.pairV6(client, server)), profICMP
	case x < icmpPerMille+scanPerMille:
		// A scanner sweeping the clients, popular or not.
		scanner := endpoint(kindScanner, r.IntN(numScan))
		target := endpoint(kindClient, r.IntN(g.cfg.Clients))
		port := scanPorts[t.scanPort.draw(r.Uint64())]
		return flowKey(scanner, target, port, classTCP, t.pairV6(scanner, target)), profScan
	case x < icmpPerMille+scanPerMille+blockedPerMille:
		// Any server, popular or not, that does not answer.
		i := r.IntN(g.cfg.Servers)
		server := endpoint(kindServer, i)
		return flowKey(client, server, p.primaryPort[i], classTCP, t.pairV6(client, server)), profBlocked
	case x < icmpPerMille+scanPerMille+blockedPerMille+infraPerMille:
		s := t.infraSvc.draw(r.Uint64())
		svc := &infraTable[s]
		server := endpoint(kindInfra, svc.servers[t.infraSrv[s].draw(r.Uint64())])
		return flowKey(client, server, svc.port, svc.class, t.pairV6(client, server)), svc.prof
	}
	i := p.serverRank.draw(r.Uint64())
	server := endpoint(kindServer, i)
	v6 := t.pairV6(client, server)
	var svc *service
	port := p.primaryPort[i]
	switch {
	case perMille(r.Uint64()) >= affinityPerMille:
		svc = &serviceTable[t.fresh.draw(r.Uint64())]
		port = svc.port
		if port == portHigh {
			port = randomHighPort(r.Uint64())
		}
	case p.internal[i]:
		svc = &internalTable[p.primary[i]]
	default:
		svc = &serviceTable[p.primary[i]]
	}
	return flowKey(client, server, port, svc.class, v6), svc.prof
}
