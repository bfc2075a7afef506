package ingest

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
)

// Flow-table update benchmarks: one op is one packet of an existing flow,
// through orientation, direction and counters. impl=table is the flow
// table, impl=gomap the baseline: the same logic on Go maps
// (map[key4]counters and map[key6]counters, lookup then store).
//
// Compare the two with
//
//	go test -run '^$' -bench 'FlowUpdate' -count 10 ./ingest | tee new.txt
//	benchstat -col /impl new.txt
//
// and a change of the table with
//
//	benchstat old.txt new.txt
//
// bytes/flow is the memory the structure holds per flow (for gomap, the
// heap growth while it was filled).

var benchFlowCounts = []int{1_000, 100_000, 1_000_000}

const benchStreamLen = 1 << 20

// updater is what the benchmark drives: the table or the baseline.
type updater interface {
	add(p *Packet)
	flows() int
}

type tableUpdater struct{ *flowTable }

func (u tableUpdater) add(p *Packet) { u.flowTable.add(p, nil, nil) }

// mapUpdater is the baseline: the orientation and direction rules of
// flowTable.add on plain Go maps.
type mapUpdater struct {
	v4 map[key4]counters
	v6 map[key6]counters
}

func (m *mapUpdater) flows() int { return len(m.v4) + len(m.v6) }

func (m *mapUpdater) add(p *Packet) {
	if p.IPv4 {
		src := binary.BigEndian.Uint32(p.Src[12:])
		dst := binary.BigEndian.Uint32(p.Dst[12:])
		k := key4{sip: src, dip: dst, dport: p.DstPort, proto: p.Proto}
		fromClient := true
		c, ok := m.v4[k]
		if !ok {
			rk := key4{sip: dst, dip: src, dport: p.SrcPort, proto: p.Proto}
			if c, ok = m.v4[rk]; ok {
				k, fromClient = rk, false
			} else if fromClient = senderIsClient(p, group4(dst)); !fromClient {
				k = rk
			}
		}
		c.add(uint64(p.Len), outbound(p.Dir, fromClient, 0))
		m.v4[k] = c
		return
	}
	var k key6
	k.s0, k.s1 = words(&p.Src)
	k.d0, k.d1 = words(&p.Dst)
	k.dport, k.proto = p.DstPort, p.Proto
	fromClient := true
	c, ok := m.v6[k]
	if !ok {
		rk := key6{s0: k.d0, s1: k.d1, d0: k.s0, d1: k.s1, dport: p.SrcPort, proto: p.Proto}
		if c, ok = m.v6[rk]; ok {
			k, fromClient = rk, false
		} else if fromClient = senderIsClient(p, group6(&p.Dst)); !fromClient {
			k = rk
		}
	}
	c.add(uint64(p.Len), outbound(p.Dir, fromClient, 0))
	m.v6[k] = c
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func BenchmarkFlowUpdate(b *testing.B) {
	for _, impl := range []string{"table", "gomap"} {
		for _, n := range benchFlowCounts {
			b.Run(fmt.Sprintf("impl=%s/flows=%d", impl, n), func(b *testing.B) {
				open, stream := synthStream(n, benchStreamLen, uint64(n))
				before := heapInUse()
				var u updater
				var mem func() int
				switch impl {
				case "table":
					ft := newFlowTable(uint64(n))
					u, mem = tableUpdater{ft}, ft.memBytes
				default:
					m := &mapUpdater{v4: map[key4]counters{}, v6: map[key6]counters{}}
					u = m
					mem = func() int { return int(heapInUse() - before) }
				}
				for i := range open {
					u.add(&open[i])
				}
				memPerFlow := float64(mem()) / float64(u.flows())
				runtime.KeepAlive(open) // live across both heap measurements
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					u.add(&stream[i])
					if i++; i == len(stream) {
						i = 0
					}
				}
				b.ReportMetric(memPerFlow, "bytes/flow")
			})
		}
	}
}

// BenchmarkAggregatorAdd is the whole per-packet path of an Aggregator on
// existing flows (rotation check, orientation, direction with local
// networks), at 100k flows.
func BenchmarkAggregatorAdd(b *testing.B) {
	open, stream := synthStream(100_000, benchStreamLen, 1)
	local, err := ParseLocalNets("10.0.0.0/8,2001:db8::/32")
	if err != nil {
		b.Fatal(err)
	}
	a, err := NewAggregator(b.Context(), "eth0", &blockSink{}, Options{Local: local})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	const ts = 1_700_000_000 * 1e9
	for i := range open {
		if err := a.Add(ts, &open[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := a.Add(ts, &stream[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(stream) {
			i = 0
		}
	}
}
