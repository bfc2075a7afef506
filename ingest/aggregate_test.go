package ingest

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/flowsql/flowsql/columnar"
)

// feed replays events into an Aggregator.
func feed(t testing.TB, a *Aggregator, evs []event) {
	t.Helper()
	for i := range evs {
		ev := &evs[i]
		var err error
		switch ev.res {
		case ResultIP:
			err = a.Add(ev.ts, &ev.p)
		case ResultNonIP:
			err = a.AddNonIP(ev.ts)
		default:
			err = a.AddParseError(ev.ts)
		}
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
}

// modelBlocks runs the reference model over events.
func modelBlocks(iface string, ivSec int64, local []netip.Prefix, evs []event) []*columnar.Block {
	m := newModel(iface, ivSec, local)
	for _, ev := range evs {
		switch ev.res {
		case ResultIP:
			m.packet(ev.ts, ev.p)
		case ResultNonIP:
			m.nonIP(ev.ts)
		default:
			m.parseError(ev.ts)
		}
	}
	return m.finish()
}

var modelLocals = []string{"", "10.0.0.0/8", "10.0.0.0/16,2001:db8::/32", "192.0.2.7,2001:db8:1::/48,2001:db8::2"}

// checkAgainstModel aggregates a random stream and compares every block
// with the reference model's.
func checkAgainstModel(t *testing.T, seed uint64, n int, ivSec int64, localSpec string, live bool) {
	t.Helper()
	g := newStreamGen(seed, ivSec)
	evs := make([]event, n)
	for i := range evs {
		evs[i] = g.next()
	}
	local, err := ParseLocalNets(localSpec)
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []netip.Prefix
	if localSpec != "" {
		for _, s := range splitComma(localSpec) {
			if p, err := netip.ParsePrefix(s); err == nil {
				prefixes = append(prefixes, p)
			} else {
				a := netip.MustParseAddr(s)
				prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
			}
		}
	}
	sink := &blockSink{}
	a, err := NewAggregator(context.Background(), "eth0", sink, Options{
		Interval: time.Duration(ivSec) * time.Second, Local: local, Live: live, MaxPendingBlocks: 2})
	if err != nil {
		t.Fatal(err)
	}
	feed(t, a, evs)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	compareBlocks(t, sink.got(), modelBlocks("eth0", ivSec, prefixes, evs))
}

func splitComma(s string) []string {
	var r []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			r = append(r, s[start:i])
			start = i + 1
		}
	}
	return r
}

func TestAggregatorMatchesModel(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		local := modelLocals[seed%uint64(len(modelLocals))]
		live := seed%3 == 0
		checkAgainstModel(t, seed, 3000, 10, local, live)
		if t.Failed() {
			t.Fatalf("seed %d, local %q, live %v", seed, local, live)
		}
	}
}

// TestAggregatorMatchesModelLarge grows the tables through many index
// doublings in one block.
func TestAggregatorMatchesModelLarge(t *testing.T) {
	checkAgainstModel(t, 99, 200_000, 3600, "10.0.0.0/8,2001:db8::/32", false)
}

// TestRotationLosesNothing: over many rotations, the blocks together hold
// exactly the input's packets and bytes, each block is aligned, and starts
// strictly increase.
func TestRotationLosesNothing(t *testing.T) {
	const ivSec = 5
	g := newStreamGen(7, ivSec)
	evs := make([]event, 50_000)
	var wantPkts, wantBytes, wantNonIP, wantPerr uint64
	for i := range evs {
		evs[i] = g.next()
		switch evs[i].res {
		case ResultIP:
			wantPkts++
			wantBytes += uint64(evs[i].p.Len)
		case ResultNonIP:
			wantNonIP++
		default:
			wantPerr++
		}
	}
	sink := &blockSink{}
	a, err := NewAggregator(context.Background(), "eth0", sink, Options{Interval: ivSec * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	feed(t, a, evs)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	blocks := sink.got()
	if len(blocks) < 100 {
		t.Fatalf("only %d blocks; the stream should rotate hundreds of times", len(blocks))
	}
	var pkts, bytes, nonIP, perr, flows uint64
	for i, b := range blocks {
		if b.Start%ivSec != 0 || b.End != b.Start+ivSec {
			t.Errorf("block %d: [%d,%d) not an aligned %ds interval", i, b.Start, b.End, ivSec)
		}
		if i > 0 && b.Start <= blocks[i-1].Start {
			t.Errorf("block %d starts at %d, not after %d", i, b.Start, blocks[i-1].Start)
		}
		if b.Len() == 0 && b.NonIP == 0 && b.ParseErrors == 0 {
			t.Errorf("block %d is empty", i)
		}
		for j := range b.Len() {
			pkts += b.PacketsIn[j] + b.PacketsOut[j]
			bytes += b.BytesIn[j] + b.BytesOut[j]
		}
		nonIP += b.NonIP
		perr += b.ParseErrors
		flows += uint64(b.Len())
	}
	if pkts != wantPkts || bytes != wantBytes || nonIP != wantNonIP || perr != wantPerr {
		t.Errorf("blocks hold %d packets, %d bytes, %d non-IP, %d errors; input had %d, %d, %d, %d",
			pkts, bytes, nonIP, perr, wantPkts, wantBytes, wantNonIP, wantPerr)
	}
	if bl, fl := a.Written(); bl != uint64(len(blocks)) || fl != flows {
		t.Errorf("Written() = %d blocks, %d flows; sink got %d, %d", bl, fl, len(blocks), flows)
	}
}

func TestAggregatorBlockBoundaries(t *testing.T) {
	sink := &blockSink{}
	a, err := NewAggregator(context.Background(), "eth0", sink, Options{Interval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p := udp4("10.0.0.1", "10.0.0.2", 40000, 53)
	sec := int64(1e9)
	steps := []struct {
		ts    int64
		nonIP bool
	}{
		{ts: 120*sec - 1},            // block [60,120)
		{ts: 120 * sec},              // block [120,180)
		{ts: 100 * sec},              // out of order: counted in [120,180)
		{ts: 179*sec + 999_999_999},  // still [120,180)
		{ts: 600 * sec, nonIP: true}, // [600,660) after empty intervals: non-IP only
		{ts: -1, nonIP: false},       // far in the past: the open block
	}
	for _, s := range steps {
		if s.nonIP {
			err = a.AddNonIP(s.ts)
		} else {
			err = a.Add(s.ts, &p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(700*sec, &p); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close: %v, want ErrClosed", err)
	}
	type want struct {
		start, pkts, nonIP int64
	}
	wants := []want{{60, 1, 0}, {120, 3, 0}, {600, 1, 1}}
	got := sink.got()
	if len(got) != len(wants) {
		t.Fatalf("got %d blocks, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		b := got[i]
		var pkts int64
		for j := range b.Len() {
			pkts += int64(b.PacketsIn[j] + b.PacketsOut[j])
		}
		if b.Start != w.start || b.End != w.start+60 || pkts != w.pkts || int64(b.NonIP) != w.nonIP || b.Iface != "eth0" {
			t.Errorf("block %d: %s [%d,%d) %d packets %d non-IP; want [%d,%d) %d packets %d non-IP",
				i, b.Iface, b.Start, b.End, pkts, b.NonIP, w.start, w.start+60, w.pkts, w.nonIP)
		}
	}
}

// TestAggregatorNegativeTimestamps: packets stamped before 1970 (a broken
// capture clock) are all counted, in the epoch's block, which the store can
// hold; later packets go to their own blocks.
func TestAggregatorNegativeTimestamps(t *testing.T) {
	sink := &blockSink{}
	a, err := NewAggregator(context.Background(), "eth0", sink, Options{Interval: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := udp4("10.0.0.1", "10.0.0.2", 40000, 53)
	for _, ts := range []int64{-5_000 * 1e9, -1, math.MinInt64, 3 * 1e9, 25 * 1e9, -7} {
		if err := a.Add(ts, &p); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	got := sink.got()
	want := []struct{ start, pkts int64 }{{0, 4}, {20, 2}}
	if len(got) != len(want) {
		t.Fatalf("got %d blocks, want %d", len(got), len(want))
	}
	for i, w := range want {
		var pkts int64
		for j := range got[i].Len() {
			pkts += int64(got[i].PacketsIn[j] + got[i].PacketsOut[j])
		}
		if got[i].Start != w.start || pkts != w.pkts {
			t.Errorf("block %d: start %d with %d packets, want start %d with %d", i, got[i].Start, pkts, w.start, w.pkts)
		}
	}
}

// TestAggregatorExtremeTimestamps: the ends of int64 time neither wrap nor
// repeat a block; times before the epoch count in the epoch's block.
func TestAggregatorExtremeTimestamps(t *testing.T) {
	sink := &blockSink{}
	a, err := NewAggregator(context.Background(), "eth0", sink, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := udp4("10.0.0.1", "10.0.0.2", 40000, 53)
	for _, ts := range []int64{math.MinInt64, math.MinInt64 + 1, 0, math.MaxInt64 - 1, math.MaxInt64, math.MaxInt64, 0} {
		if err := a.Add(ts, &p); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	got := sink.got()
	if len(got) != 2 {
		t.Fatalf("%d blocks, want 2 (the epoch and the maximum)", len(got))
	}
	var pkts uint64
	for i, b := range got {
		if b.End != b.Start+300 || (i > 0 && b.Start <= got[i-1].Start) {
			t.Errorf("block %d: [%d,%d)", i, b.Start, b.End)
		}
		for j := range b.Len() {
			pkts += b.PacketsOut[j] + b.PacketsIn[j]
		}
	}
	if pkts != 7 {
		t.Errorf("%d packets in the blocks, want 7", pkts)
	}
}

func checkAgainstModelAt(t *testing.T, base int64) {
	g := newStreamGen(3, 10)
	g.ts = base
	evs := make([]event, 2000)
	for i := range evs {
		evs[i] = g.next()
	}
	sink := &blockSink{}
	a, err := NewAggregator(context.Background(), "lo", sink, Options{Interval: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	feed(t, a, evs)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	compareBlocks(t, sink.got(), modelBlocks("lo", 10, nil, evs))
}

// TestSinkErrorStops: a failing sink stops ingestion with a wrapped error,
// and the blocks written before it stay.
func TestSinkErrorStops(t *testing.T) {
	sink := &blockSink{failAt: 3}
	a, err := NewAggregator(context.Background(), "eth0", sink, Options{Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := udp4("10.0.0.1", "10.0.0.2", 40000, 53)
	var addErr error
	for s := int64(0); s < 100 && addErr == nil; s++ {
		addErr = a.Add(s*1e9, &p)
	}
	closeErr := a.Close()
	if !errors.Is(closeErr, ErrWrite) {
		t.Fatalf("Close: %v, want ErrWrite", closeErr)
	}
	if addErr != nil && !errors.Is(addErr, ErrWrite) {
		t.Errorf("Add: %v, want ErrWrite", addErr)
	}
	if addErr == nil {
		t.Errorf("Add never reported the sink failure over 100 rotations")
	}
	if got := len(sink.got()); got != 2 {
		t.Errorf("%d blocks committed before the failure, want 2", got)
	}
	if b, _ := a.Written(); b != 2 {
		t.Errorf("Written() = %d blocks, want 2", b)
	}
}

func TestAggregatorContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	sink := &blockSink{}
	a, err := NewAggregator(ctx, "eth0", sink, Options{Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := udp4("10.0.0.1", "10.0.0.2", 40000, 53)
	if err := a.Add(0, &p); err != nil {
		t.Fatal(err)
	}
	cancel()
	// Cancellation abandons the open block; it is the caller's stop, not a
	// failure of the store, so it is not reported as ErrWrite.
	if err := a.Close(); !errors.Is(err, context.Canceled) || errors.Is(err, ErrWrite) {
		t.Errorf("Close after cancel: %v, want context.Canceled and not ErrWrite", err)
	}
	if n := len(sink.got()); n != 0 {
		t.Errorf("%d blocks written after cancellation", n)
	}
}

func TestNewAggregatorErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		iface string
		sink  BlockSink
		opts  Options
		want  error
	}{
		{"no iface", "", &blockSink{}, Options{}, ErrBadIface},
		{"long iface", string(make([]byte, 256)), &blockSink{}, Options{}, ErrBadIface},
		{"nil sink", "eth0", nil, Options{}, ErrNoSink},
		{"negative interval", "eth0", &blockSink{}, Options{Interval: -time.Second}, ErrBadInterval},
		{"sub-second interval", "eth0", &blockSink{}, Options{Interval: 1500 * time.Millisecond}, ErrBadInterval},
	}
	for _, c := range cases {
		a, err := NewAggregator(ctx, c.iface, c.sink, c.opts)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if a != nil {
			a.Close()
		}
	}
}

func TestAggregatorNoAllocs(t *testing.T) {
	local, _ := ParseLocalNets("10.0.0.0/8,2001:db8::/32")
	a, err := NewAggregator(context.Background(), "eth0", &blockSink{}, Options{Local: local})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	pkts := []Packet{
		tcp4("10.0.0.1", "192.0.2.1", 40000, 443, 0x10),
		tcp4("192.0.2.1", "10.0.0.1", 443, 40000, 0x10),
		udp6("2001:db8::1", "2001:db8:ffff::1", 50000, 53),
		udp6("2001:db8:ffff::1", "2001:db8::1", 53, 50000),
	}
	const ts = 1_700_000_000 * 1e9
	for i := range pkts {
		if err := a.Add(ts, &pkts[i]); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		for i := range pkts {
			_ = a.Add(ts, &pkts[i])
		}
	})
	if allocs != 0 {
		t.Errorf("Aggregator.Add on existing flows: %v allocs per run, want 0", allocs)
	}
}
