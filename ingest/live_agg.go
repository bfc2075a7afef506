package ingest

import "math"

// The few things live capture needs to know about an Aggregator's open
// block, kept in one place. Like every other method of Aggregator they may
// only be called by the goroutine that owns it (see live.go).

// liveDue reports whether a frame at ts closes the open block (or opens
// the first one): Add will rotate.
func (a *Aggregator) liveDue(ts int64) bool { return ts >= a.endNs }

// liveOpen returns the open block's start (unix seconds), whether it holds
// any frame (so that rotating it hands a block to the writer), and its
// number of flows. With no open block it returns math.MinInt64.
func (a *Aggregator) liveOpen() (start int64, used bool, flows int) {
	if a.cur == nil {
		return math.MinInt64, false, 0
	}
	return a.cur.start, a.cur.used, a.cur.flows()
}

// liveRotate closes the open block when nowNs is past its end, as a packet
// at nowNs would, without counting anything; with always unset it leaves
// a block that holds no frame (or no block at all) alone, since rotating
// it would write nothing. It reports whether it rotated.
func (a *Aggregator) liveRotate(nowNs int64, always bool) (bool, error) {
	if nowNs < a.endNs {
		return false, nil
	}
	if !always && (a.cur == nil || !a.cur.used) {
		return false, nil
	}
	return true, a.rotate(nowNs)
}
