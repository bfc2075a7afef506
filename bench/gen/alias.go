package gen

import "math"

// aliasTable draws an index in [0, n) with fixed weights in O(1) from one
// random 64-bit word, with integer arithmetic only (Walker's alias method,
// built as Vose describes). Building uses floating point once; drawing is
// then exact and the same on every platform.
type aliasTable struct {
	cut   []uint32 // keep column i when the low 32 bits are below cut[i]
	alias []uint32 // otherwise take alias[i]
}

// newAliasTable builds a table for weights, which must be non-negative with
// a positive sum.
func newAliasTable(weights []float64) aliasTable {
	n := len(weights)
	t := aliasTable{cut: make([]uint32, n), alias: make([]uint32, n)}
	var sum float64
	for _, w := range weights {
		sum += w
	}
	scaled := make([]float64, n)
	small := make([]int, 0, n)
	large := make([]int, 0, n)
	for i, w := range weights {
		scaled[i] = w * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.cut[s] = probCut(scaled[s])
		t.alias[s] = uint32(l)
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// What is left has probability 1 up to rounding error.
	for _, i := range append(small, large...) {
		t.cut[i] = math.MaxUint32
		t.alias[i] = uint32(i)
	}
	return t
}

// probCut turns a probability in [0, 1) into a 32-bit threshold.
func probCut(p float64) uint32 {
	if p <= 0 {
		return 0
	}
	return uint32(math.Min(p*(1<<32), math.MaxUint32))
}

// draw maps a uniform random word to an index: the high 32 bits pick a
// column, the low 32 bits decide between it and its alias.
func (t *aliasTable) draw(u uint64) int {
	i := (u >> 32) * uint64(len(t.cut)) >> 32
	if uint32(u) < t.cut[i] {
		return int(i)
	}
	return int(t.alias[i])
}

// zipfWeights returns the weights k^-s of ranks k = 1..n.
func zipfWeights(n int, s float64) []float64 {
	w := make([]float64, n)
	for k := range w {
		w[k] = math.Pow(float64(k+1), -s)
	}
	return w
}
