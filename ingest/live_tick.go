package ingest

import "time"

// tick refreshes the ring's kernel counters and, when it can prove that
// the capture goroutine is not using the aggregator (live.go), publishes
// the counters and closes a block whose interval is over by the wall
// clock. It reports whether it owned the ring.
func (r *liveRing) tick(now time.Time) (owned bool) {
	r.own.Lock()
	defer r.own.Unlock()
	if r.own.exited {
		return false
	}
	r.active.Store(true)
	defer r.active.Store(false)
	n := r.processed.Load() // before the kernel counters: see live.go
	k := r.ring.Stats()
	r.snap.Lock()
	r.snap.kernel = k
	r.snap.Unlock()
	if k.Packets-k.Drops != n {
		return false // packets wait in the ring: the capture goroutine is busy
	}
	nowNs := now.UnixNano()
	if r.agg.liveDue(nowNs) {
		err := r.rotateWith(func() error {
			_, err := r.agg.liveRotate(nowNs, r.always)
			return err
		})
		if err != nil {
			r.log.Error("capture: rotating an idle block", "iface", r.iface, "err", err)
			r.snap.Lock()
			r.snap.lastErr = err.Error()
			r.snap.Unlock()
		}
	}
	r.publish()
	return true
}
