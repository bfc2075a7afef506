package ingest

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
	"golang.org/x/sys/unix"
)

// Live-capture tests on test rings (live_ring_test.go): they run without
// privileges and exercise the capture goroutine, the idle rotation by Tick
// and the block times, with a fake clock.

// fakeClock is a settable clock for LiveOptions.Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(sec int64) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(sec * 1e9)
	return c
}
func (c *fakeClock) Now() time.Time                  { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) set(t time.Time)                 { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) setSec(sec int64)                { c.ns.Store(sec * 1e9) }
func (c *fakeClock) add(d time.Duration)             { c.ns.Add(int64(d)) }
func (c *fakeClock) after(d time.Duration) time.Time { return c.Now().Add(d) }

// startTest starts a capture of "eth0" on test rings.
func startTest(t *testing.T, sink BlockSink, clk *fakeClock, opts LiveOptions) (*LiveCapture, *ringSet) {
	t.Helper()
	rs := &ringSet{}
	opts.OpenRing = rs.open
	opts.Now = clk.Now
	c, err := StartLive(t.Context(), IfaceRef{Name: "eth0", Index: 2}, sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c, rs
}

// waitProcessed waits until the capture has processed every frame its
// rings accepted (the kernel filter drops non-IP frames).
func waitProcessed(t *testing.T, c *LiveCapture, rs *ringSet) {
	t.Helper()
	waitFor(t, "frames processed", func() bool {
		var p, a uint64
		for _, r := range c.rings {
			p += r.processed.Load()
		}
		rs.mu.Lock()
		for _, r := range rs.rings {
			a += r.accepted.Load()
		}
		rs.mu.Unlock()
		return p == a
	})
}

// referenceBlocks runs the frames through the file path (IngestSource on a
// MockRing with the same filter and offload), the baseline live capture
// must equal.
func referenceBlocks(t *testing.T, interval time.Duration, frames []capture.MockFrame) []*columnar.Block {
	t.Helper()
	m, err := capture.NewMockRing(frames, capture.MockOptions{Link: capture.LinkEthernet, Filter: true, OffloadVLAN: true})
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if _, err := IngestSource(t.Context(), m, sink, Options{Iface: "eth0", Interval: interval}); err != nil {
		t.Fatal(err)
	}
	return sink.written()
}

// sameRows fails unless got and want hold the same blocks, rows in any
// order; block ends are compared only when ends is set.
func sameRows(t *testing.T, got, want []*columnar.Block, ends bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d blocks, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := columnartest.SortedRows(got[i]), columnartest.SortedRows(want[i])
		if !ends {
			g.End = w.End
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("block %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestLiveCountsLikeFileIngest(t *testing.T) {
	frames := liveFrames(t, baseSec+10, 40001)
	frames = append(frames, liveFrames(t, baseSec+20, 40002)...)
	clk := newFakeClock(baseSec + 60)
	sink := &memSink{}
	c, rs := startTest(t, sink, clk, LiveOptions{})
	rs.get(0).push(t, frames[:10]...)
	rs.get(0).push(t, frames[10:]...)
	waitProcessed(t, c, rs)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	want := referenceBlocks(t, 0, frames)
	got := sink.written()
	sameRows(t, got, want, false)
	if end := baseSec + 60; len(got) == 1 && got[0].End != end {
		t.Errorf("block end %d, want the stop time %d", got[0].End, end)
	}
	st := c.Status()
	// The kernel filter drops the two ARP frames; the runts are parse errors.
	if st.Packets != uint64(len(frames)-2) || st.NonIP != 0 || st.ParseErrors != 2 || st.Blocks != 1 || st.Running {
		t.Errorf("status %+v", st)
	}
	var bytes uint64
	for _, f := range frames {
		if len(f.Data) != 42 { // ARP
			bytes += uint64(len(f.Data))
		}
	}
	if st.Bytes != bytes {
		// The two VLAN frames must count their wire length once: the ring
		// already adds the offloaded tag to OrigLen (capture.PacketInfo).
		t.Errorf("status bytes %d, want %d: VLAN-offloaded frames must count their tag once", st.Bytes, bytes)
	}
}

func TestLiveRotatesByPacketTime(t *testing.T) {
	clk := newFakeClock(baseSec)
	sink := &memSink{}
	c, rs := startTest(t, sink, clk, LiveOptions{Interval: 10 * time.Second})
	var all []capture.MockFrame
	for i := range int64(3) {
		f := liveFrames(t, baseSec+i*10+1, uint16(40001+i))
		all = append(all, f...)
		rs.get(0).push(t, f...)
	}
	// The first two blocks are written while capture runs.
	waitFor(t, "two blocks", func() bool { return len(sink.written()) == 2 })
	clk.setSec(baseSec + 25)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	got := sink.written()
	sameRows(t, got, referenceBlocks(t, 10*time.Second, all), false)
	for i, b := range got {
		wantEnd := baseSec + int64(i+1)*10
		if i == 2 {
			wantEnd = baseSec + 25 // cut at the stop time
		}
		if b.Start != baseSec+int64(i)*10 || b.End != wantEnd {
			t.Errorf("block %d: [%d, %d), want [%d, %d)", i, b.Start, b.End, baseSec+int64(i)*10, wantEnd)
		}
	}
}

func TestLiveIdleBlockWrittenByWallClock(t *testing.T) {
	clk := newFakeClock(baseSec)
	sink := &memSink{}
	c, rs := startTest(t, sink, clk, LiveOptions{Interval: 10 * time.Second})
	ring := rs.get(0)
	frames := liveFrames(t, baseSec+2, 40001)
	ring.push(t, frames...)
	waitProcessed(t, c, rs)
	waitFor(t, "the capture goroutine to block", func() bool { return ring.waits.Load() >= 2 })

	c.Tick(time.Unix(baseSec+9, 0)) // interval not over
	if st := c.Status(); st.OpenFlows == 0 || st.OpenStart != baseSec || st.Kernel.Packets != ring.accepted.Load() {
		t.Errorf("status while open: %+v", st)
	}
	time.Sleep(10 * time.Millisecond)
	if n := len(sink.written()); n != 0 {
		t.Fatalf("%d blocks written before the interval ended", n)
	}
	c.Tick(time.Unix(baseSec+10, 1)) // over: the idle block is written now
	waitFor(t, "the idle block", func() bool { return len(sink.written()) == 1 })
	if b := sink.written()[0]; b.Start != baseSec || b.End != baseSec+10 {
		t.Errorf("idle block [%d, %d), want [%d, %d)", b.Start, b.End, baseSec, baseSec+10)
	}
	if st := c.Status(); st.OpenFlows != 0 || st.Blocks != 1 || !st.Running {
		t.Errorf("status after the idle rotation: %+v", st)
	}
	// Capture goes on into the next interval.
	later := liveFrames(t, baseSec+12, 40002)
	ring.push(t, later...)
	waitProcessed(t, c, rs)
	clk.setSec(baseSec + 15)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	sameRows(t, sink.written(), referenceBlocks(t, 10*time.Second, append(frames, later...)), false)
}

func TestLiveTickBacksOffWhilePacketsWait(t *testing.T) {
	clk := newFakeClock(baseSec)
	sink := &memSink{}
	c, rs := startTest(t, sink, clk, LiveOptions{Interval: 10 * time.Second})
	ring := rs.get(0)
	first := liveFrames(t, baseSec+1, 40001)
	ring.push(t, first...)
	waitProcessed(t, c, rs)
	waitFor(t, "the capture goroutine to block", func() bool { return ring.waits.Load() >= 2 })

	// Hold the reader inside NextPacket with frames accepted but unread:
	// Tick must not take the aggregator, whatever the clock says.
	ring.hold = make(chan struct{})
	second := liveFrames(t, baseSec+3, 40002)
	ring.push(t, second...)
	if c.rings[0].tick(time.Unix(baseSec+30, 0)) {
		t.Fatal("tick took the aggregator while accepted packets were unread")
	}
	close(ring.hold)
	waitProcessed(t, c, rs)
	if !c.rings[0].tick(time.Unix(baseSec+30, 0)) {
		t.Fatal("tick did not take the aggregator of an idle ring")
	}
	waitFor(t, "the idle block", func() bool { return len(sink.written()) == 1 })
	sameRows(t, sink.written(), referenceBlocks(t, 10*time.Second, append(first, second...)), false)
}

func TestLiveIdleDoesNotWake(t *testing.T) {
	clk := newFakeClock(baseSec)
	c, rs := startTest(t, &memSink{}, clk, LiveOptions{Interval: 10 * time.Second})
	ring := rs.get(0)
	waitFor(t, "the capture goroutine to block", func() bool { return ring.waits.Load() == 1 })
	for i := range int64(100) {
		c.Tick(time.Unix(baseSec+i, 0))
	}
	time.Sleep(20 * time.Millisecond)
	// The capture goroutine slept through 100 ticks (100 s of fake time);
	// each tick cost one counter read.
	if w, s := ring.waits.Load(), ring.stats.Load(); w != 1 || s != 100 {
		t.Errorf("idle capture: %d waits (want 1), %d kernel counter reads (want 100)", w, s)
	}
}

func TestLiveRingErrorsAreTransient(t *testing.T) {
	clk := newFakeClock(baseSec)
	sink := &memSink{}
	c, rs := startTest(t, sink, clk, LiveOptions{})
	ring := rs.get(0)
	a, b := liveFrames(t, baseSec+1, 40001), liveFrames(t, baseSec+2, 40002)
	ring.push(t, a...)
	ring.fail(unix.ENETDOWN)
	ring.push(t, b...)
	waitProcessed(t, c, rs)
	st := c.Status()
	if st.RingErrors != 1 || st.LastError == "" || !st.Running {
		t.Errorf("status after ENETDOWN: %+v", st)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	sameRows(t, sink.written(), referenceBlocks(t, 0, append(a, b...)), false)
}

func TestLiveWriteRetries(t *testing.T) {
	for _, tc := range []struct {
		name          string
		failN         int
		err           error
		blocks, drops uint64
	}{
		{"transient", 2, errors.New("disk hiccup"), 1, 0},
		{"persistent", 10, errors.New("disk gone"), 0, 1},
		{"refused", 1, columnar.ErrBlockOverlap, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock(baseSec)
			sink := &memSink{failN: tc.failN, err: tc.err}
			c, rs := startTest(t, sink, clk, LiveOptions{WriteRetries: 3, WriteRetryDelay: time.Millisecond})
			rs.get(0).push(t, liveFrames(t, baseSec+1, 40001)...)
			waitProcessed(t, c, rs)
			if err := c.Stop(); err != nil {
				t.Fatal(err)
			}
			st := c.Status()
			if st.Blocks != tc.blocks || st.Dropped != tc.drops || st.WriteErrors == 0 || st.LastError == "" {
				t.Errorf("status %+v", st)
			}
		})
	}
}

func TestLiveOptionsValidation(t *testing.T) {
	for _, o := range []LiveOptions{
		{Interval: 1500 * time.Millisecond},
		{Fanout: -1},
		{Fanout: MaxFanout + 1},
		{MaxPendingBlocks: -1},
	} {
		if _, err := StartLive(t.Context(), IfaceRef{Name: "eth0"}, &memSink{}, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	if _, err := StartLive(t.Context(), IfaceRef{Name: ""}, &memSink{}, LiveOptions{}); !errors.Is(err, ErrBadIface) {
		t.Errorf("empty name: %v", err)
	}
	if _, err := StartLive(t.Context(), IfaceRef{Name: "eth0"}, nil, LiveOptions{}); !errors.Is(err, ErrNoSink) {
		t.Errorf("nil sink: %v", err)
	}
	rs := &ringSet{fail: unix.ENODEV}
	if _, err := StartLive(t.Context(), IfaceRef{Name: "eth0"}, &memSink{}, LiveOptions{OpenRing: rs.open}); !errors.Is(err, unix.ENODEV) {
		t.Errorf("open failure: %v", err)
	}
}

func TestLiveContextCancelStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	rs := &ringSet{}
	c, err := StartLive(ctx, IfaceRef{Name: "eth0"}, &memSink{}, LiveOptions{OpenRing: rs.open})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	waitFor(t, "the capture to end", func() bool { return !c.Running() })
	_ = c.Stop()
}

// TestLiveNoAllocs: the per-packet path of live capture allocates nothing
// once the flow table holds the traffic's flows.
func TestLiveNoAllocs(t *testing.T) {
	frames := liveFrames(t, baseSec+1, 40001)
	m, err := capture.NewMockRing(frames, capture.MockOptions{Link: capture.LinkEthernet, Filter: true, OffloadVLAN: true, Loop: true})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAggregator(t.Context(), "eth0", &memSink{}, Options{Live: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	r := newLiveRing(t.Context(), "eth0", mockPacketRing{m}, a, NewDecoder(DecoderOptions{}), slog.New(slog.DiscardHandler))
	step := func() {
		data, info, err := m.NextPacket()
		if err != nil {
			t.Fatal(err)
		}
		if err := r.step(data, info); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 * m.Len() {
		step()
	}
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
}
