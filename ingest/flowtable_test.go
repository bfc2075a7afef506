package ingest

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/flowsql/flowsql/columnar"
)

func TestEntrySizes(t *testing.T) {
	if s := unsafe.Sizeof(entry4{}); s != 48 {
		t.Errorf("entry4 is %d bytes, want 48", s)
	}
	if s := unsafe.Sizeof(entry6{}); s != 72 {
		t.Errorf("entry6 is %d bytes, want 72", s)
	}
}

func randKey4(r *rand.Rand) key4 {
	return key4{sip: r.Uint32(), dip: r.Uint32(), dport: uint16(r.Uint32()), proto: uint8(r.Uint32())}
}

func randKey6(r *rand.Rand) key6 {
	return key6{s0: r.Uint64(), s1: r.Uint64(), d0: r.Uint64(), d1: r.Uint64(), dport: uint16(r.Uint32()), proto: uint8(r.Uint32())}
}

// upsert4 finds or inserts k and adds a packet of n bytes; it is the table
// half of flowTable.add4, for the table tests.
func upsert4(t *table4, k key4, n uint64) *entry4 {
	if t.full() {
		t.grow()
	}
	h := hash4(k, t.seed)
	e, pos := t.find(k, h)
	if e == nil {
		e = t.insert(pos, k, h)
	}
	e.c.add(n, true)
	return e
}

func upsert6(t *table6, k *key6, n uint64) *entry6 {
	if t.full() {
		t.grow()
	}
	h := hash6(k, t.seed)
	e, pos := t.find(k, h)
	if e == nil {
		e = t.insert(pos, k, h)
	}
	e.c.add(n, true)
	return e
}

// TestTable4 checks the table against a Go map through growth, reset and
// shrinking, with keys that differ in a single field.
func TestTable4(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tb := &table4{}
	tb.seed = 42
	for round := 0; round < 3; round++ {
		ref := map[key4]uint64{}
		n := []int{50_000, 3, 20_000}[round]
		var keys []key4
		for len(keys) < n {
			k := randKey4(r)
			keys = append(keys, k, key4{sip: k.sip, dip: k.dip, dport: k.dport + 1, proto: k.proto},
				key4{sip: k.dip, dip: k.sip, dport: k.dport, proto: k.proto})
		}
		for i := 0; i < 4*len(keys); i++ {
			k := keys[r.IntN(len(keys))]
			size := uint64(r.IntN(1500))
			upsert4(tb, k, size)
			ref[k] += size
		}
		if tb.n != len(ref) {
			t.Fatalf("round %d: %d entries, want %d", round, tb.n, len(ref))
		}
		for k, want := range ref {
			e := tb.lookup(k, hash4(k, tb.seed))
			if e == nil || e.c.bytesOut != want {
				t.Fatalf("round %d: key %+v: entry %v, want bytes %d", round, k, e, want)
			}
		}
		if e := tb.lookup(key4{sip: 1, dip: 2, dport: 3, proto: 4}, hash4(key4{sip: 1, dip: 2, dport: 3, proto: 4}, tb.seed)); e != nil {
			t.Fatalf("found a key never inserted")
		}
		var b columnar.Block
		tb.appendTo(&b)
		if b.Len() != len(ref) {
			t.Fatalf("exported %d rows, want %d", b.Len(), len(ref))
		}
		for i := range b.Len() {
			k := key4{sip: be32(b.SIP[i][12:]), dip: be32(b.DIP[i][12:]), dport: b.DPort[i], proto: b.Proto[i]}
			if ref[k] != b.BytesOut[i] || !isMapped4(&b.SIP[i]) {
				t.Fatalf("row %d: %+v bytes %d, want %d", i, k, b.BytesOut[i], ref[k])
			}
		}
		before := tb.memBytes()
		tb.reset()
		if tb.n != 0 || tb.lookup(keys[0], hash4(keys[0], tb.seed)) != nil {
			t.Fatalf("reset left entries")
		}
		if round == 1 && tb.memBytes() >= before/4 {
			t.Errorf("reset after a 150k-flow block and a 3-flow one kept %d of %d bytes", tb.memBytes(), before)
		}
	}
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func TestTable6(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tb := &table6{}
	tb.seed = 7
	ref := map[key6]uint64{}
	var keys []key6
	for len(keys) < 30_000 {
		k := randKey6(r)
		keys = append(keys, k, key6{s0: k.s0, s1: k.s1, d0: k.d0, d1: k.d1 ^ 1, dport: k.dport, proto: k.proto},
			key6{s0: k.d0, s1: k.d1, d0: k.s0, d1: k.s1, dport: k.dport, proto: k.proto ^ 1})
	}
	for i := 0; i < 3*len(keys); i++ {
		k := keys[r.IntN(len(keys))]
		size := uint64(r.IntN(1500))
		upsert6(tb, &k, size)
		ref[k] += size
	}
	if tb.n != len(ref) {
		t.Fatalf("%d entries, want %d", tb.n, len(ref))
	}
	for k, want := range ref {
		e := tb.lookup(&k, hash6(&k, tb.seed))
		if e == nil || e.c.bytesOut != want {
			t.Fatalf("key %+v: entry %v, want bytes %d", k, e, want)
		}
	}
	var b columnar.Block
	tb.appendTo(&b)
	for i := range b.Len() {
		var k key6
		k.s0, k.s1 = words(&b.SIP[i])
		k.d0, k.d1 = words(&b.DIP[i])
		k.dport, k.proto = b.DPort[i], b.Proto[i]
		if ref[k] != b.BytesOut[i] {
			t.Fatalf("row %d: bytes %d, want %d", i, b.BytesOut[i], ref[k])
		}
	}
}

// TestTableCollidingHashes: keys whose hashes share the slot position and
// the tag still work (the entry comparison decides).
func TestTableCollidingHashes(t *testing.T) {
	tb := &table4{}
	tb.alloc(minIndexBits)
	const h = 0x8000_0000_0000_0005 // same slot and tag for every key
	for i := range 10 {
		k := key4{sip: uint32(i)}
		e, pos := tb.find(k, h)
		if e != nil {
			t.Fatalf("key %d found before insertion", i)
		}
		tb.insert(pos, k, h).c.add(uint64(i), true)
	}
	for i := range 10 {
		e, _ := tb.find(key4{sip: uint32(i)}, h)
		if e == nil || e.c.bytesOut != uint64(i) {
			t.Fatalf("key %d: %v", i, e)
		}
	}
}

// memPerFlow fills a table with n random flows and returns its memory per
// flow in bytes.
func memPerFlow(n int, v6 bool) float64 {
	r := rand.New(rand.NewPCG(uint64(n), 1))
	if v6 {
		tb := &table6{}
		for range n {
			k := randKey6(r)
			upsert6(tb, &k, 1)
		}
		return float64(tb.memBytes()) / float64(tb.n)
	}
	tb := &table4{}
	for range n {
		upsert4(tb, randKey4(r), 1)
	}
	return float64(tb.memBytes()) / float64(tb.n)
}

// TestMemoryPerFlow checks the memory budget: at most 64 bytes per active
// IPv4 flow (entry 48 bytes, index 4 bytes a slot at load 3/8 to 3/4).
func TestMemoryPerFlow(t *testing.T) {
	sizes := []int{1_000, 100_000, 1_000_000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, n := range sizes {
		b4, b6 := memPerFlow(n, false), memPerFlow(n, true)
		t.Logf("%8d flows: IPv4 %.1f B/flow, IPv6 %.1f B/flow", n, b4, b6)
		if b4 > 64 {
			t.Errorf("%d IPv4 flows: %.1f bytes per flow, budget 64", n, b4)
		}
		if b6 > 88 {
			t.Errorf("%d IPv6 flows: %.1f bytes per flow, want at most 88", n, b6)
		}
	}
}

// TestNoAllocs: updating existing flows allocates nothing, whichever way
// the packet goes and however the direction is decided.
func TestFlowTableNoAllocs(t *testing.T) {
	local, err := ParseLocalNets("10.0.0.0/8,2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	prev := newFlowTable(1)
	ft := newFlowTable(1)
	pkts := []Packet{
		tcp4("10.0.0.1", "192.0.2.1", 40000, 443, tcpSYN),
		tcp4("192.0.2.1", "10.0.0.1", 443, 40000, tcpACK),
		udp4("10.0.0.1", "224.0.0.251", 5353, 5353),
		icmpPacket("10.0.0.1", "192.0.2.1", 8),
		tcp6("2001:db8::1", "2a00::1", 50000, 443, tcpSYN),
		tcp6("2a00::1", "2001:db8::1", 443, 50000, tcpACK),
		icmpPacket("2a00::1", "2001:db8::1", 129),
	}
	for i := range pkts {
		ft.add(&pkts[i], prev, local)
	}
	for name, l := range map[string]*LocalNets{"no local": nil, "local": local} {
		allocs := testing.AllocsPerRun(1000, func() {
			for i := range pkts {
				ft.add(&pkts[i], prev, l)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: flowTable.add on existing flows: %v allocs per run, want 0", name, allocs)
		}
	}
	if ft.flows() != 5 {
		t.Errorf("%d flows, want 5", ft.flows())
	}
}
