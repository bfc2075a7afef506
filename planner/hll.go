package planner

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// count(DISTINCT col) is estimated with a HyperLogLog sketch of
// 2^sketchP = 4096 one-byte registers (standard error 1.04/sqrt(4096),
// about 1.6%). Small sets stay exact: up to sketchSparseMax distinct
// 64-bit hashes are kept in a small open-addressing set, and only the
// 257th value turns the sketch into registers. Sketches merge (union of
// the sets, maximum of the registers), so partial aggregates of many
// blocks, workers and hosts combine into the sketch of the union.
const (
	sketchP         = 12
	sketchM         = 1 << sketchP
	sketchSparseMax = 256
	// sketchVersion names the hash functions and encoding of sketches in
	// partial aggregates; a change needs a new version.
	sketchVersion = "hll-p12-v1"
)

// sketch is one group's count(DISTINCT) state. The zero value is empty.
type sketch struct {
	set   []uint64 // open addressing, 0 = empty slot; nil when dense
	n     int      // hashes in set
	dense []uint8  // registers, nil while sparse
}

// add inserts hash h and returns the bytes newly allocated (for the
// memory budget).
func (s *sketch) add(h uint64) int64 {
	if s.dense != nil {
		s.addDense(h)
		return 0
	}
	if h == 0 {
		h = 1 // 0 marks empty slots
	}
	var grown int64
	if 2*(s.n+1) > len(s.set) {
		if s.n+1 > sketchSparseMax {
			if s.hasSparse(h) {
				return 0
			}
			return s.toDense() + s.addDenseRet(h)
		}
		grown = s.growSet()
	}
	mask := uint64(len(s.set) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.set[i] {
		case 0:
			s.set[i] = h
			s.n++
			return grown
		case h:
			return grown
		}
	}
}

func (s *sketch) addDenseRet(h uint64) int64 { s.addDense(h); return 0 }

func (s *sketch) hasSparse(h uint64) bool {
	if len(s.set) == 0 {
		return false
	}
	mask := uint64(len(s.set) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.set[i] {
		case 0:
			return false
		case h:
			return true
		}
	}
}

func (s *sketch) growSet() int64 {
	old := s.set
	s.set = zeroed[uint64](max(8, 2*len(old)))
	s.n = 0
	mask := uint64(len(s.set) - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for s.set[i] != 0 {
			i = (i + 1) & mask
		}
		s.set[i] = h
		s.n++
	}
	return int64(8 * (len(s.set) - len(old)))
}

// toDense moves the sparse hashes into registers.
func (s *sketch) toDense() int64 {
	s.dense = make([]uint8, sketchM)
	for _, h := range s.set {
		if h != 0 {
			s.addDense(h)
		}
	}
	freed := int64(8 * len(s.set))
	s.set, s.n = nil, 0
	return sketchM - freed
}

func (s *sketch) addDense(h uint64) {
	idx := h >> (64 - sketchP)
	rho := uint8(bits.LeadingZeros64(h<<sketchP|1<<(sketchP-1))) + 1
	if rho > s.dense[idx] {
		s.dense[idx] = rho
	}
}

// merge adds every value of o to s and returns the bytes allocated.
func (s *sketch) merge(o *sketch) int64 {
	var grown int64
	if o.dense != nil {
		if s.dense == nil {
			grown += s.toDense()
		}
		for i, r := range o.dense {
			if r > s.dense[i] {
				s.dense[i] = r
			}
		}
		return grown
	}
	for _, h := range o.set {
		if h != 0 {
			grown += s.add(h)
		}
	}
	return grown
}

// estimate returns the number of distinct values: exact while sparse,
// the HyperLogLog estimate (with linear counting for small ranges) after.
func (s *sketch) estimate() uint64 {
	if s.dense == nil {
		return uint64(s.n)
	}
	sum, zeros := 0.0, 0
	for _, r := range s.dense {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	m := float64(sketchM)
	alpha := 0.7213 / (1 + 1.079/m)
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return uint64(math.Round(e))
}

// bytes returns the memory the sketch holds.
func (s *sketch) bytes() int64 { return int64(8*len(s.set) + len(s.dense)) }

// Sketch encoding in partial aggregates:
//
//	empty   0 bytes
//	sparse  0x01 | uvarint n | n x uint64 BE hashes, ascending, distinct, non-zero
//	dense   0x02 | sketchP   | 2^sketchP register bytes, each <= 64-sketchP+1
const (
	sketchTagSparse = 1
	sketchTagDense  = 2
	sketchMaxRho    = 64 - sketchP + 1
)

// appendTo appends the encoding of s.
func (s *sketch) appendTo(dst []byte) []byte {
	switch {
	case s.dense != nil:
		dst = append(dst, sketchTagDense, sketchP)
		return append(dst, s.dense...)
	case s.n == 0:
		return dst
	}
	hs := make([]uint64, 0, s.n)
	for _, h := range s.set {
		if h != 0 {
			hs = append(hs, h)
		}
	}
	slices.Sort(hs)
	dst = append(dst, sketchTagSparse)
	dst = binary.AppendUvarint(dst, uint64(len(hs)))
	for _, h := range hs {
		dst = binary.BigEndian.AppendUint64(dst, h)
	}
	return dst
}

// decodeSketch decodes and validates an encoded sketch.
func decodeSketch(b []byte) (sketch, error) {
	var s sketch
	if len(b) == 0 {
		return s, nil
	}
	switch b[0] {
	case sketchTagDense:
		if len(b) != 2+sketchM || b[1] != sketchP {
			return s, fmt.Errorf("dense sketch of %d bytes; want %d bytes of precision %d", len(b), 2+sketchM, sketchP)
		}
		for i, r := range b[2:] {
			if r > sketchMaxRho {
				return s, fmt.Errorf("sketch register %d holds %d, above %d", i, r, sketchMaxRho)
			}
		}
		s.dense = slices.Clone(b[2:])
		return s, nil
	case sketchTagSparse:
		n, k := binary.Uvarint(b[1:])
		if k <= 0 || n == 0 || n > sketchSparseMax || uint64(len(b)-1-k) != 8*n {
			return s, fmt.Errorf("sparse sketch of %d bytes with count %d (limit %d)", len(b), n, sketchSparseMax)
		}
		prev := uint64(0)
		for p := b[1+k:]; len(p) > 0; p = p[8:] {
			h := binary.BigEndian.Uint64(p)
			if h <= prev {
				return s, fmt.Errorf("sparse sketch hashes are not ascending and non-zero")
			}
			prev = h
			s.add(h)
		}
		return s, nil
	}
	return s, fmt.Errorf("unknown sketch tag %d", b[0])
}
