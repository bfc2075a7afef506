package columnar

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestMaxOf checks the four-lane maximum against slices.Max for every
// length around the lane count and the maximum in every position.
func TestMaxOf(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	if got := maxOf([]uint16(nil)); got != 0 {
		t.Fatalf("maxOf(nil) = %d, want 0", got)
	}
	for n := 1; n <= 37; n++ {
		for at := range n {
			s := make([]uint16, n)
			for i := range s {
				s[i] = uint16(r.IntN(1000))
			}
			s[at] = 1000 + uint16(at)
			if got, want := maxOf(s), uint64(slices.Max(s)); got != want {
				t.Fatalf("n=%d, max at %d: maxOf = %d, want %d", n, at, got, want)
			}
		}
	}
	if got := maxOf([]uint64{1, ^uint64(0), 3, 4, 5}); got != ^uint64(0) {
		t.Fatalf("maxOf uint64 = %d", got)
	}
	if got := maxOf([]uint8{7, 9, 2}); got != 9 {
		t.Fatalf("maxOf uint8 = %d", got)
	}
}
