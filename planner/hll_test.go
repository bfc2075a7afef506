package planner

import (
	"math"
	"testing"
)

// TestSketchAccuracy checks exact counts while sparse and the estimate
// within 5 standard errors (1.04/64 each) beyond, for sets built in one
// pass and merged from parts.
func TestSketchAccuracy(t *testing.T) {
	for _, n := range []int{0, 1, 10, 256, 257, 300, 1000, 5000, 20000, 100000, 1000000} {
		var one sketch
		parts := make([]sketch, 3)
		for i := range n {
			h := hashValue(uint64(i) * 7919)
			one.add(h)
			one.add(h) // duplicates do not count
			parts[i%3].add(h)
		}
		got := one.estimate()
		if n <= sketchSparseMax {
			if got != uint64(n) {
				t.Errorf("n=%d: estimate %d, want exact", n, got)
			}
		} else if rel := math.Abs(float64(got)-float64(n)) / float64(n); rel > 5*1.04/64 {
			t.Errorf("n=%d: estimate %d, relative error %.4f", n, got, rel)
		}
		var merged sketch
		for i := range parts {
			merged.merge(&parts[i])
		}
		if m := merged.estimate(); m != got {
			t.Errorf("n=%d: merged estimate %d, one pass %d", n, m, got)
		}
		dec, err := decodeSketch(one.appendTo(nil))
		if err != nil {
			t.Fatalf("n=%d: decode: %v", n, err)
		}
		if e := dec.estimate(); e != got {
			t.Errorf("n=%d: decoded estimate %d, want %d", n, e, got)
		}
	}
}

// TestSketchDecodeRejects checks malformed sketch encodings.
func TestSketchDecodeRejects(t *testing.T) {
	dense := append([]byte{sketchTagDense, sketchP}, make([]byte, sketchM)...)
	bad := [][]byte{
		{9},
		{sketchTagSparse},
		{sketchTagSparse, 1, 0, 0, 0, 0, 0, 0, 0, 0},                         // hash 0
		{sketchTagSparse, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1}, // descending
		{sketchTagSparse, 1, 0, 0, 0, 0, 0, 0, 0},                            // short
		dense[:100],
		append(append([]byte{}, dense[:2]...), append([]byte{60}, dense[3:]...)...), // register too big
	}
	for i, b := range bad {
		if _, err := decodeSketch(b); err == nil {
			t.Errorf("case %d: %x accepted", i, b[:min(len(b), 12)])
		}
	}
}

// FuzzDecodeSketch checks that no input panics and that decoded sketches
// re-encode to an equivalent sketch.
func FuzzDecodeSketch(f *testing.F) {
	var s sketch
	f.Add(s.appendTo(nil)) // empty
	for i := range 20 {
		s.add(hashValue(uint64(i)))
	}
	f.Add(s.appendTo(nil)) // sparse
	for i := range 2000 {
		s.add(hashValue(uint64(i)))
	}
	f.Add(s.appendTo(nil)) // dense
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeSketch(b)
		if err != nil {
			return
		}
		again, err := decodeSketch(d.appendTo(nil))
		if err != nil || again.estimate() != d.estimate() {
			t.Fatalf("round trip: %v, %d vs %d", err, again.estimate(), d.estimate())
		}
	})
}
