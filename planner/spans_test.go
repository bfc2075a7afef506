package planner

import (
	"net/netip"
	"testing"
	"time"

	"github.com/flowsql/flowsql/sql"
)

func TestPrefixSpan(t *testing.T) {
	for _, c := range []struct{ p, lo, hi string }{
		{"10.0.0.0/8", "10.0.0.0", "10.255.255.255"},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255"},
		{"192.0.2.7/32", "192.0.2.7", "192.0.2.7"},
		{"2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001:db8:1:2::/64", "2001:db8:1:2::", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"2001:db8::1/128", "2001:db8::1", "2001:db8::1"},
	} {
		s := prefixSpan(netip.MustParsePrefix(c.p))
		if s.lo != addrU128(netip.MustParseAddr(c.lo)) || s.hi != addrU128(netip.MustParseAddr(c.hi)) {
			t.Errorf("%s: got %x..%x", c.p, s.lo.bytes(), s.hi.bytes())
		}
	}
}

// TestPrefixSpansFamily: a prefix matches its own family only, as in
// net/netip, also where its bytes cover the other's stored form.
func TestPrefixSpansFamily(t *testing.T) {
	for _, c := range []struct {
		p     string
		in    []string
		notIn []string
	}{
		{"::/0", []string{"::", "2001:db8::1", "::fffe:ffff:ffff", "::1:0:0:0", "ffff::"}, []string{"0.0.0.0", "10.1.2.3", "255.255.255.255"}},
		{"::/64", []string{"::1", "::1:0:0:0"}, []string{"10.1.2.3"}},
		{"::ffff:0:0/96", nil, []string{"0.0.0.0", "10.1.2.3"}},
		{"0.0.0.0/0", []string{"0.0.0.0", "10.1.2.3", "255.255.255.255"}, []string{"::", "::ffff:0:0:0", "2001:db8::1"}},
		{"10.0.0.0/8", []string{"10.0.0.0", "10.255.255.255"}, []string{"11.0.0.0", "::a00:0"}},
	} {
		s := prefixSpans(netip.MustParsePrefix(c.p))
		for _, a := range c.in {
			if v := addrU128(netip.MustParseAddr(a)); !s.covers(v, v) {
				t.Errorf("%s does not match %s", c.p, a)
			}
		}
		for _, a := range c.notIn {
			if v := addrU128(netip.MustParseAddr(a)); s.overlaps(v, v) {
				t.Errorf("%s matches %s", c.p, a)
			}
		}
	}
}

func TestSpanSets(t *testing.T) {
	n := func(lo, hi uint64) span { return span{u128{0, lo}, u128{0, hi}} }
	dom := n(0, 100)
	s := normalize(spanSet{n(5, 9), n(1, 3), n(4, 4), n(50, 60), n(55, 70)})
	if want := (spanSet{n(1, 9), n(50, 70)}); !equalSets(s, want) {
		t.Fatalf("normalize: %v", s)
	}
	if c := s.complement(dom); !equalSets(c, spanSet{n(0, 0), n(10, 49), n(71, 100)}) {
		t.Fatalf("complement: %v", c)
	}
	if c := (spanSet{n(0, 100)}).complement(dom); len(c) != 0 {
		t.Fatalf("complement of all: %v", c)
	}
	if i := s.intersect(spanSet{n(8, 52)}); !equalSets(i, spanSet{n(8, 9), n(50, 52)}) {
		t.Fatalf("intersect: %v", i)
	}
	if v4 := v4Family.complement(allAddrs).complement(allAddrs); !equalSets(v4, v4Family) {
		t.Fatalf("family complement: %v", v4)
	}
}

func equalSets(a, b spanSet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTimeSpans checks how comparisons with fractional and pre-epoch
// times select whole-second block starts.
func TestTimeSpans(t *testing.T) {
	at := func(s string) litValue { tm, _ := time.Parse(time.RFC3339Nano, s); return timeValue(tm) }
	dom := domain(sql.ColTime)
	has := func(set spanSet, v uint64) bool { return set.overlaps(u128{0, v}, u128{0, v}) }
	frac := at("1970-01-01T00:00:10.5Z")
	for _, c := range []struct {
		op      sql.CmpOp
		in, out []uint64
	}{
		{sql.OpEq, nil, []uint64{10, 11}},
		{sql.OpNe, []uint64{10, 11}, nil},
		{sql.OpLt, []uint64{0, 10}, []uint64{11}},
		{sql.OpLe, []uint64{10}, []uint64{11}},
		{sql.OpGt, []uint64{11}, []uint64{10}},
		{sql.OpGe, []uint64{11}, []uint64{10}},
	} {
		set := timeSpans(c.op, frac, dom)
		for _, v := range c.in {
			if !has(set, v) {
				t.Errorf("%s 10.5s: %d not selected", c.op, v)
			}
		}
		for _, v := range c.out {
			if has(set, v) {
				t.Errorf("%s 10.5s: %d selected", c.op, v)
			}
		}
	}
	neg := at("1969-12-31T23:59:59.5Z")
	if s := timeSpans(sql.OpGe, neg, dom); !has(s, 0) {
		t.Error(">= before the epoch excludes 0")
	}
	if s := timeSpans(sql.OpLt, neg, dom); len(s) != 0 {
		t.Errorf("< before the epoch selects %v", s)
	}
}
