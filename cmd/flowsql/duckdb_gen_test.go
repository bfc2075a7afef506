package main

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// Random queries for the DuckDB differential test: each is written twice,
// in flowsql's dialect and in DuckDB SQL over the table the oracle builds
// (testdata/duckdb_oracle.py: t, bytes, packets, sip_x/dip_x hex keys,
// sip_4/dip_4 family flags).
//
// Translation, chosen so the comparison stays honest without DuckDB's inet
// extension:
//   - address = / != / IN compare the 32-hex-digit keys; a CIDR is a
//     BETWEEN of its first and last key; ordering comparisons and BETWEEN
//     add the literal's family (flowsql only matches that family);
//   - time is the block start in Unix seconds (t); bucket(time, d) is
//     t // d * d; time literals are whole minutes;
//   - ORDER BY ties are broken as flowsql documents: by every group key in
//     GROUP BY order (listings: every selected column in select order),
//     ascending, addresses by their 16-byte form (the hex key);
//   - LIMIT without ORDER BY keeps the first groups by key;
//   - sum of no rows is 0 in flowsql and NULL in DuckDB: coalesce.
//
// Not generated: avg and count(DISTINCT) in ORDER BY (float ties and
// estimates), listings without ORDER BY but with LIMIT (storage order is
// not DuckDB's), relative times (they depend on now), host (one value).

// colKind says how a result column is compared.
type colKind uint8

const (
	kindExact    colKind = iota // text equal: addresses, names, integers
	kindTime                    // flowsql RFC 3339, DuckDB Unix seconds
	kindFloat                   // within 1e-9 relative
	kindDistinct                // count(DISTINCT): exact to 256, then 5%
)

// diffQuery is one generated query.
type diffQuery struct {
	flowsql, duck string
	kinds         []colKind // per result column
	ordered       bool      // rows must come in this order
	flowTop       bool      // has the threshold top-N's shape (planner/topk.go)
}

// diffSample holds values drawn from the data, so that conditions match.
type diffSample struct {
	sips, dips []netip.Addr
	ports      []uint16
	ifaces     []string
	from, to   int64 // first and last block start
}

type queryGen struct {
	r *rand.Rand
	s *diffSample
}

// pick returns a random element.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// addrKey returns the oracle's key of an address.
func addrKey(a netip.Addr) string {
	b := a.As16()
	return hex.EncodeToString(b[:])
}

// prefixRange returns the first and last key of a prefix.
func prefixRange(p netip.Prefix) (lo, hi string) {
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	b := p.Masked().Addr().As16()
	l := b
	for i := bits; i < 128; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return hex.EncodeToString(l[:]), hex.EncodeToString(b[:])
}

func (g *queryGen) addr(col string) netip.Addr {
	if col == "sip" || g.r.IntN(5) == 0 {
		return pick(g.r, g.s.sips)
	}
	return pick(g.r, g.s.dips)
}

func (g *queryGen) prefix(col string) netip.Prefix {
	if g.r.IntN(10) == 0 {
		// Short prefixes whose keys span both families.
		return netip.MustParsePrefix(pick(g.r, []string{"::/0", "::/1", "::/64", "0.0.0.0/0"}))
	}
	a := g.addr(col)
	bits := 8 + g.r.IntN(25)
	if a.Is6() {
		bits = 16 + 8*g.r.IntN(7)
		if g.r.IntN(6) == 0 {
			bits = 128
		}
	}
	return netip.PrefixFrom(a, bits).Masked()
}

func family(col string, a netip.Addr) string {
	if a.Is4() {
		return col + "_4"
	}
	return "NOT " + col + "_4"
}

var cmpOps = []string{"=", "!=", "<", "<=", ">", ">="}

// duckOp translates an operator.
func duckOp(op string) string {
	if op == "!=" {
		return "<>"
	}
	return op
}

// minute returns a whole-minute time in the data's range (a little beyond).
func (g *queryGen) minute() int64 {
	span := g.s.to - g.s.from + 600
	return (g.s.from - 300 + g.r.Int64N(span)) / 60 * 60
}

func quoteTime(t int64) string { return "'" + time.Unix(t, 0).UTC().Format("2006-01-02 15:04") + "'" }

var counters = []string{"bytes", "packets", "bytes_in", "bytes_out", "packets_in", "packets_out"}

// counterValue returns a threshold spread over the counters' range.
func (g *queryGen) counterValue() uint64 {
	return uint64(float64(g.r.IntN(1000)) * float64(uint64(1)<<g.r.IntN(24)) / 100)
}

// leaf returns one predicate in both dialects.
func (g *queryGen) leaf() (fs, dd string) {
	switch g.r.IntN(9) {
	case 0, 1: // address
		col := pick(g.r, []string{"sip", "dip"})
		x := col + "_x"
		switch g.r.IntN(6) {
		case 0:
			a, op := g.addr(col), pick(g.r, []string{"=", "!="})
			return fmt.Sprintf("%s %s %s", col, op, a), fmt.Sprintf("%s %s '%s'", x, duckOp(op), addrKey(a))
		case 1, 2: // IN a list of addresses and prefixes
			n := 1 + g.r.IntN(4)
			var fl, dl []string
			for range n {
				if g.r.IntN(2) == 0 {
					// A prefix matches its own family only: ::/0 covers the
					// keys of IPv4 addresses (IPv4-mapped) but not them.
					p := g.prefix(col)
					lo, hi := prefixRange(p)
					fl = append(fl, p.String())
					dl = append(dl, fmt.Sprintf("(%s AND %s BETWEEN '%s' AND '%s')", family(col, p.Addr()), x, lo, hi))
				} else {
					a := g.addr(col)
					fl = append(fl, a.String())
					dl = append(dl, fmt.Sprintf("%s = '%s'", x, addrKey(a)))
				}
			}
			not := g.r.IntN(4) == 0
			fs = fmt.Sprintf("%s IN (%s)", col, strings.Join(fl, ", "))
			dd = "(" + strings.Join(dl, " OR ") + ")"
			if not {
				fs = strings.Replace(fs, " IN ", " NOT IN ", 1)
				dd = "NOT " + dd
			}
			return fs, dd
		case 3: // ordering: only the literal's family matches
			a, op := g.addr(col), pick(g.r, cmpOps[2:])
			return fmt.Sprintf("%s %s %s", col, op, a), fmt.Sprintf("(%s AND %s %s '%s')", family(col, a), x, op, addrKey(a))
		case 4:
			a, b := g.addr(col), g.addr(col)
			for a.Is4() != b.Is4() {
				b = g.addr(col)
			}
			if b.Less(a) {
				a, b = b, a
			}
			return fmt.Sprintf("%s BETWEEN %s AND %s", col, a, b),
				fmt.Sprintf("(%s AND %s BETWEEN '%s' AND '%s')", family(col, a), x, addrKey(a), addrKey(b))
		default:
			op := pick(g.r, []string{"=", "!="})
			return "sip " + op + " dip", "sip_x " + duckOp(op) + " dip_x"
		}
	case 2: // dport
		p := uint16(g.r.IntN(65536))
		if g.r.IntN(3) > 0 {
			p = pick(g.r, g.s.ports)
		}
		switch g.r.IntN(4) {
		case 0:
			op := pick(g.r, cmpOps)
			return fmt.Sprintf("dport %s %d", op, p), fmt.Sprintf("dport %s %d", duckOp(op), p)
		case 1:
			q := pick(g.r, g.s.ports)
			lo, hi := min(p, q), max(p, q)
			return fmt.Sprintf("dport BETWEEN %d AND %d", lo, hi), fmt.Sprintf("dport BETWEEN %d AND %d", lo, hi)
		default:
			ps := []string{fmt.Sprint(p)}
			for range g.r.IntN(4) {
				ps = append(ps, fmt.Sprint(pick(g.r, g.s.ports)))
			}
			l := strings.Join(ps, ", ")
			if g.r.IntN(4) == 0 {
				return "dport NOT IN (" + l + ")", "dport NOT IN (" + l + ")"
			}
			return "dport IN (" + l + ")", "dport IN (" + l + ")"
		}
	case 3: // proto
		names := map[string]int{"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "47": 47}
		ns := []string{"tcp", "udp", "icmp", "icmpv6", "47"}
		n := pick(g.r, ns)
		if g.r.IntN(3) == 0 {
			m := pick(g.r, ns)
			return fmt.Sprintf("proto IN (%s, %s)", n, m), fmt.Sprintf("proto IN (%d, %d)", names[n], names[m])
		}
		op := pick(g.r, []string{"=", "!=", "<", ">="})
		return fmt.Sprintf("proto %s %s", op, n), fmt.Sprintf("proto %s %d", duckOp(op), names[n])
	case 4, 5: // counters
		c := pick(g.r, counters)
		if g.r.IntN(6) == 0 {
			d, op := pick(g.r, counters), pick(g.r, cmpOps)
			return fmt.Sprintf("%s %s %s", c, op, d), fmt.Sprintf("%s %s %s", c, duckOp(op), d)
		}
		v := g.counterValue()
		if g.r.IntN(4) == 0 {
			w := v + g.counterValue()
			return fmt.Sprintf("%s BETWEEN %d AND %d", c, v, w), fmt.Sprintf("%s BETWEEN %d AND %d", c, v, w)
		}
		op := pick(g.r, cmpOps)
		return fmt.Sprintf("%s %s %d", c, op, v), fmt.Sprintf("%s %s %d", c, duckOp(op), v)
	case 6, 7: // time
		a := g.minute()
		if g.r.IntN(3) == 0 {
			b := a + int64(g.r.IntN(120))*60
			return fmt.Sprintf("time BETWEEN %s AND %s", quoteTime(a), quoteTime(b)), fmt.Sprintf("t BETWEEN %d AND %d", a, b)
		}
		op := pick(g.r, cmpOps[2:])
		return fmt.Sprintf("time %s %s", op, quoteTime(a)), fmt.Sprintf("t %s %d", op, a)
	default: // iface
		i := pick(g.r, g.s.ifaces)
		op := pick(g.r, []string{"=", "!="})
		return fmt.Sprintf("iface %s %s", op, i), fmt.Sprintf("iface %s '%s'", duckOp(op), i)
	}
}

// cond returns a condition tree of AND, OR and NOT over leaves.
func (g *queryGen) cond(depth int) (fs, dd string) {
	if depth <= 0 || g.r.IntN(3) == 0 {
		return g.leaf()
	}
	switch g.r.IntN(5) {
	case 0:
		f, d := g.cond(depth - 1)
		return "NOT (" + f + ")", "NOT (" + d + ")"
	case 1, 2:
		f1, d1 := g.cond(depth - 1)
		f2, d2 := g.cond(depth - 1)
		return "(" + f1 + " OR " + f2 + ")", "(" + d1 + " OR " + d2 + ")"
	default:
		f1, d1 := g.cond(depth - 1)
		f2, d2 := g.cond(depth - 1)
		return "(" + f1 + " AND " + f2 + ")", "(" + d1 + " AND " + d2 + ")"
	}
}

func TestPrefixRange(t *testing.T) {
	for _, tc := range []struct{ p, lo, hi string }{
		{"10.0.0.0/8", "00000000000000000000ffff0a000000", "00000000000000000000ffff0affffff"},
		{"10.1.2.3/32", "00000000000000000000ffff0a010203", "00000000000000000000ffff0a010203"},
		{"2001:db8::/32", "20010db8000000000000000000000000", "20010db8ffffffffffffffffffffffff"},
		{"fd00::/8", "fd000000000000000000000000000000", "fdffffffffffffffffffffffffffffff"},
	} {
		lo, hi := prefixRange(netip.MustParsePrefix(tc.p))
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("prefixRange(%s) = %s, %s; want %s, %s", tc.p, lo, hi, tc.lo, tc.hi)
		}
	}
}
