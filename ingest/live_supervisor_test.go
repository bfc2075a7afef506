package ingest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	"golang.org/x/sys/unix"
)

// openTestStore opens a columnar store in a temporary folder and checks it
// when the test ends.
func openTestStore(t *testing.T) *columnar.DB {
	t.Helper()
	db, err := columnar.Open(context.Background(), t.TempDir(), &columnar.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, err := range db.Check(context.Background()) {
			t.Errorf("store check: %v", err)
		}
		_ = db.Close()
	})
	return db
}

// storedEnd is LiveOptions.StoredEnd on a store: the end of its last block
// of the interface.
func storedEnd(db *columnar.DB) func(string) int64 {
	return func(iface string) int64 {
		metas, err := db.Blocks(context.Background(), columnar.Selector{Ifaces: []string{iface}})
		if err != nil || len(metas) == 0 {
			return 0
		}
		return metas[len(metas)-1].End
	}
}

// storedBlocks reads every block of db.
func storedBlocks(t *testing.T, db *columnar.DB) []*columnar.Block {
	t.Helper()
	metas, err := db.Blocks(context.Background(), columnar.Selector{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*columnar.Block
	for i := range metas {
		b, err := db.ReadBlock(context.Background(), &metas[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// sumRows adds up the rows of blocks into one block (start of the first).
func sumRows(blocks []*columnar.Block) *columnar.Block {
	m := &mergeBlock{got: make([]bool, 1), row: map[mergeKey]int{}}
	for _, b := range blocks {
		m.add(b)
	}
	if len(blocks) > 0 {
		m.b.Start = blocks[0].Start
	}
	return &m.b
}

// A capture stopped and started again inside one interval (SIGHUP, an
// interface that went away) writes two blocks that do not overlap, and
// loses nothing.
func TestLiveRestartInsideInterval(t *testing.T) {
	db := openTestStore(t)
	clk := newFakeClock(baseSec + 100)
	a := liveFrames(t, baseSec+50, 40001)
	b := liveFrames(t, baseSec+150, 40002)
	for i, frames := range [][]capture.MockFrame{a, b} {
		c, rs := startTest(t, db, clk, LiveOptions{StoredEnd: storedEnd(db)})
		rs.get(0).push(t, frames...)
		waitProcessed(t, c, rs)
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		if st := c.Status(); st.Blocks != 1 || st.Dropped != 0 {
			t.Fatalf("capture %d: %+v", i, st)
		}
		clk.setSec(baseSec + 200)
	}
	got := storedBlocks(t, db)
	if len(got) != 2 || got[0].Start != baseSec || got[0].End != baseSec+100 ||
		got[1].Start != baseSec+100 || got[1].End != baseSec+200 {
		for _, b := range got {
			t.Logf("block [%d, %d)", b.Start-baseSec, b.End-baseSec)
		}
		t.Fatalf("want blocks [0, 100) and [100, 200) of the interval")
	}
	want := referenceBlocks(t, 0, append(a, b...))
	sum := sumRows(got)
	sum.End = want[0].End
	sameRows(t, []*columnar.Block{sum}, want, true)
}

func TestSupervisorSync(t *testing.T) {
	db := openTestStore(t)
	clk := newFakeClock(baseSec + 100)
	rs := &ringSet{}
	s, err := NewSupervisor(t.Context(), db, LiveOptions{OpenRing: rs.open, Now: clk.Now, StoredEnd: storedEnd(db)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	eth0, eth1 := IfaceRef{Name: "eth0", Index: 2}, IfaceRef{Name: "eth1", Index: 3}
	if err := s.Sync([]IfaceRef{eth0, eth1}); err != nil {
		t.Fatal(err)
	}
	frames := liveFrames(t, baseSec+10, 40001)
	rs.get(0).push(t, frames...)
	rs.get(1).push(t, frames...)
	waitFor(t, "both interfaces", func() bool {
		s.Tick(clk.Now()) // publishes the counters of idle rings
		st := s.Status()
		return len(st) == 2 && st[0].Packets == rs.get(0).accepted.Load() && st[1].Packets == rs.get(1).accepted.Load()
	})

	// eth1 leaves: its block is written now, its counters stay.
	clk.setSec(baseSec + 120)
	if err := s.Sync([]IfaceRef{eth0}); err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	if len(st) != 2 || !st[0].Running || st[1].Running || st[1].Blocks != 1 || st[1].Packets != rs.get(1).accepted.Load() {
		t.Fatalf("after removing eth1: %+v", st)
	}
	// eth1 comes back (new index): a new ring, counters continue.
	clk.setSec(baseSec + 130)
	eth1.Index = 7
	if err := s.Sync([]IfaceRef{eth0, eth1}); err != nil {
		t.Fatal(err)
	}
	rs.get(2).push(t, liveFrames(t, baseSec+140, 40002)...)
	waitFor(t, "eth1 again", func() bool {
		s.Tick(clk.Now())
		return s.Status()[1].Packets == rs.get(1).accepted.Load()+rs.get(2).accepted.Load()
	})
	// eth0 changes index: restarted.
	eth0.Index = 9
	if err := s.Sync([]IfaceRef{eth0, eth1}); err != nil {
		t.Fatal(err)
	}
	if n := len(rs.rings); n != 4 {
		t.Fatalf("%d rings opened, want 4", n)
	}
	clk.setSec(baseSec + 150)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(nil); !errors.Is(err, ErrSupervisorClosed) {
		t.Errorf("Sync after Close: %v", err)
	}
	for _, st := range s.Status() {
		if st.Running || st.Dropped != 0 || st.WriteErrors != 0 {
			t.Errorf("after Close: %+v", st)
		}
	}
	// eth0: [0,150) cut at its restart ... stored without overlap; eth1: two blocks.
	var n0, n1 int
	for _, b := range storedBlocks(t, db) {
		switch b.Iface {
		case "eth0":
			n0++
		case "eth1":
			n1++
		}
	}
	if n0 != 1 || n1 != 2 {
		t.Errorf("stored blocks: eth0 %d (want 1), eth1 %d (want 2)", n0, n1)
	}
}

func TestSupervisorRetriesFailedOpen(t *testing.T) {
	clk := newFakeClock(baseSec)
	rs := &ringSet{fail: unix.ENODEV}
	s, err := NewSupervisor(t.Context(), &memSink{}, LiveOptions{OpenRing: rs.open, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := []IfaceRef{{Name: "eth0", Index: 2}}
	if err := s.Sync(want); !errors.Is(err, unix.ENODEV) {
		t.Fatalf("Sync: %v", err)
	}
	rs.mu.Lock()
	rs.fail = nil
	rs.mu.Unlock()
	if err := s.Sync(want); err != nil || len(s.Status()) != 0 {
		t.Fatalf("retried before the delay: %v %+v", err, s.Status())
	}
	clk.add(DefaultRetryDelay)
	if err := s.Sync(want); err != nil || len(s.Status()) != 1 {
		t.Fatalf("not retried after the delay: %v %+v", err, s.Status())
	}
}

// Fanout: rings of one interface write one merged block per interval,
// equal to what one ring would have counted.
func TestLiveFanoutMerges(t *testing.T) {
	clk := newFakeClock(baseSec)
	sink := &memSink{}
	c, rs := startTest(t, sink, clk, LiveOptions{Fanout: 3, Interval: 10 * time.Second})
	// Ring 0 and 1 see connections of the same stored flow (other source
	// ports); ring 2 stays idle. Second interval: only ring 1.
	a, b := liveFrames(t, baseSec+1, 40001), liveFrames(t, baseSec+2, 40002)
	later := liveFrames(t, baseSec+11, 40003)
	rs.get(0).push(t, a...)
	rs.get(1).push(t, b...)
	waitProcessed(t, c, rs)
	rs.get(1).push(t, later...)
	waitProcessed(t, c, rs)
	// Ring 0 and 2 are idle: the first interval waits for them until a
	// tick moves them on.
	time.Sleep(10 * time.Millisecond)
	if n := len(sink.written()); n != 0 {
		t.Fatalf("%d blocks written before the idle rings moved on", n)
	}
	c.Tick(time.Unix(baseSec+12, 0))
	waitFor(t, "the first merged block", func() bool { return len(sink.written()) == 1 })
	clk.setSec(baseSec + 15)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	all := append(append(append([]capture.MockFrame(nil), a...), b...), later...)
	got := sink.written()
	sameRows(t, got, referenceBlocks(t, 10*time.Second, all), false)
	if len(got) == 2 && (got[0].End != baseSec+10 || got[1].End != baseSec+15) {
		t.Errorf("ends %d, %d", got[0].End-baseSec, got[1].End-baseSec)
	}
	if st := c.Status(); st.Rings != 3 || st.Blocks != 2 || st.Packets != uint64(len(all)-3) {
		t.Errorf("status %+v", st)
	}
}

// TestLiveTickRacesCapture hammers the hand-over between Tick and the
// capture goroutine (run it with -race): frames arrive in bursts while
// Tick runs with a clock crossing many 1 s intervals. Every frame must
// end up in exactly one block, with single and fanout rings.
func TestLiveTickRacesCapture(t *testing.T) {
	for _, fanout := range []int{1, 3} {
		clk := newFakeClock(baseSec)
		sink := &memSink{}
		c, rs := startTest(t, sink, clk, LiveOptions{Interval: time.Second, Fanout: fanout, publishEvery: 1})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 2000 {
				c.Tick(clk.Now())
			}
		}()
		var frames []capture.MockFrame
		for i := range 300 {
			now := clk.Now()
			f := liveFrames(t, 0, uint16(40000+i))
			for j := range f {
				f[j].Timestamp = now.UnixNano() + int64(j)
			}
			frames = append(frames, f...)
			rs.get(i%fanout).push(t, f...)
			clk.add(37 * time.Millisecond)
			if i%7 == 0 {
				time.Sleep(time.Millisecond) // let the capture go idle now and then
			}
		}
		<-done
		waitProcessed(t, c, rs)
		if err := c.Stop(); err != nil {
			t.Fatal(err)
		}
		got := sumRows(sink.written())
		want := sumRows(referenceBlocks(t, time.Second, frames))
		got.Start, got.End, want.End = want.Start, 0, 0
		sameRows(t, []*columnar.Block{got}, []*columnar.Block{want}, true)
		for i, b := range sink.written()[1:] {
			if prev := sink.written()[i]; b.Start < prev.End {
				t.Errorf("fanout %d: block %d [%d, %d) overlaps [%d, %d)", fanout, i+1, b.Start, b.End, prev.Start, prev.End)
			}
		}
	}
}
