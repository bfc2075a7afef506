package planner

import (
	"math"
	"net/netip"
	"slices"
)

// Predicates on one column compile to sets of closed intervals (spans) of
// the column's values: sip IN (10.0.0.0/8, 1.2.3.4) is two address spans,
// dport NOT IN (80, 443) three port spans, time >= -1h one span of block
// starts. Numbers and addresses share one 128-bit representation while
// compiling; numeric leaves keep 64-bit spans for execution.

// u128 is an unsigned 128-bit value: an address in the store's 16-byte
// form (IPv4 as ::ffff:a.b.c.d), or a number with hi == 0.
type u128 struct{ hi, lo uint64 }

var maxU128 = u128{math.MaxUint64, math.MaxUint64}

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

func (a u128) inc() u128 {
	if a.lo == math.MaxUint64 {
		return u128{a.hi + 1, 0}
	}
	return u128{a.hi, a.lo + 1}
}

func (a u128) dec() u128 {
	if a.lo == 0 {
		return u128{a.hi - 1, math.MaxUint64}
	}
	return u128{a.hi, a.lo - 1}
}

// addrU128 returns the 16-byte form of a as a u128.
func addrU128(a netip.Addr) u128 { return bytesU128(a.Unmap().As16()) }

func bytesU128(b [16]byte) u128 {
	return u128{be64(b[:8]), be64(b[8:])}
}

func (a u128) bytes() (b [16]byte) {
	putBE64(b[:8], a.hi)
	putBE64(b[8:], a.lo)
	return b
}

func be64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

func putBE64(b []byte, v uint64) {
	_ = b[7]
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// span is a closed interval [lo, hi] of u128 values.
type span struct{ lo, hi u128 }

// spanSet is a sorted list of disjoint, non-adjacent spans.
type spanSet []span

// within reports whether every span of s lies inside w.
func (s spanSet) within(w span) bool {
	for _, x := range s {
		if x.lo.less(w.lo) || w.hi.less(x.hi) {
			return false
		}
	}
	return true
}

// normalize sorts and merges overlapping or adjacent spans.
func normalize(s spanSet) spanSet {
	slices.SortFunc(s, func(a, b span) int {
		switch {
		case a.lo.less(b.lo):
			return -1
		case b.lo.less(a.lo):
			return 1
		}
		return 0
	})
	out := s[:0]
	for _, x := range s {
		if n := len(out); n > 0 && (!out[n-1].hi.less(x.lo) || out[n-1].hi != maxU128 && out[n-1].hi.inc() == x.lo) {
			if out[n-1].hi.less(x.hi) {
				out[n-1].hi = x.hi
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

// complement returns the values of dom not in s. REQUIRES: s normalized and
// within dom.
func (s spanSet) complement(dom span) spanSet {
	var out spanSet
	next, open := dom.lo, true
	for _, x := range s {
		if next.less(x.lo) {
			out = append(out, span{next, x.lo.dec()})
		}
		if x.hi == dom.hi {
			open = false
			break
		}
		next = x.hi.inc()
	}
	if open && !dom.hi.less(next) {
		out = append(out, span{next, dom.hi})
	}
	return out
}

// intersect returns the values in both s and t (both normalized).
func (s spanSet) intersect(t spanSet) spanSet {
	var out spanSet
	i, j := 0, 0
	for i < len(s) && j < len(t) {
		lo, hi := s[i].lo, s[i].hi
		if lo.less(t[j].lo) {
			lo = t[j].lo
		}
		if t[j].hi.less(hi) {
			hi = t[j].hi
		}
		if !hi.less(lo) {
			out = append(out, span{lo, hi})
		}
		if s[i].hi.less(t[j].hi) {
			i++
		} else {
			j++
		}
	}
	return out
}

// union returns the values in s or t.
func (s spanSet) union(t spanSet) spanSet {
	out := make(spanSet, 0, len(s)+len(t))
	out = append(append(out, s...), t...)
	return normalize(out)
}

// covers reports whether s contains every value of [lo, hi].
func (s spanSet) covers(lo, hi u128) bool {
	for _, x := range s {
		if !lo.less(x.lo) && !x.hi.less(hi) {
			return true
		}
	}
	return false
}

// overlaps reports whether s has a value in [lo, hi].
func (s spanSet) overlaps(lo, hi u128) bool {
	for _, x := range s {
		if !hi.less(x.lo) && !x.hi.less(lo) {
			return true
		}
	}
	return false
}

// span64 is a closed interval of uint64 values.
type span64 struct{ lo, hi uint64 }

// to64 converts a set of numeric spans (hi words zero).
func (s spanSet) to64() []span64 {
	out := make([]span64, len(s))
	for i, x := range s {
		out[i] = span64{x.lo.lo, x.hi.lo}
	}
	return out
}

// contains64 reports whether v is in one of the spans.
func contains64(s []span64, v uint64) bool {
	for _, x := range s {
		if v-x.lo <= x.hi-x.lo {
			return true
		}
	}
	return false
}

// Address families in the 16-byte form: IPv4 is ::ffff:0:0/96.
var (
	v4Family = spanSet{{u128{0, 0xffff << 32}, u128{0, 0xffff<<32 | 0xffffffff}}}
	allAddrs = span{u128{}, maxU128}
	v6Family = v4Family.complement(allAddrs)
)

// prefixSpan returns the addresses of a prefix.
func prefixSpan(p netip.Prefix) span {
	bits := p.Bits()
	a := p.Masked().Addr()
	if a.Is4() {
		bits += 96
	}
	lo := addrU128(a)
	hi := lo
	switch {
	case bits == 0:
		hi = maxU128
	case bits < 64:
		hi = u128{lo.hi | (math.MaxUint64 >> bits), math.MaxUint64}
	case bits < 128:
		hi = u128{lo.hi, lo.lo | (math.MaxUint64 >> (bits - 64))}
	}
	return span{lo, hi}
}

// prefixSpans returns the addresses a prefix matches. As in net/netip, a
// prefix matches only addresses of its own family: an IPv6 prefix never
// matches an IPv4 address, even one whose IPv4-mapped form it covers, so
// sip IN ::/0 is every IPv6 address and 0.0.0.0/0 every IPv4 address.
func prefixSpans(p netip.Prefix) spanSet {
	s := spanSet{prefixSpan(p)}
	if !p.Addr().Is4() {
		s = s.intersect(v6Family)
	}
	return s
}

// familyOf returns the spans of the family of a.
func familyOf(a netip.Addr) spanSet {
	if a.Unmap().Is4() {
		return v4Family
	}
	return v6Family
}
