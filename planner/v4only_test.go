package planner

import (
	"testing"

	"github.com/flowsql/flowsql/columnar"
)

// TestV4Only: an address column is read for its IPv4 dictionary part only
// when every condition on it lies within ::ffff:0:0/96 and nothing else
// reads the column.
func TestV4Only(t *testing.T) {
	for _, c := range []struct {
		q        string
		sip, dip bool
	}{
		{"SELECT dip, sum(bytes) WHERE sip = 10.0.0.1 GROUP BY dip", true, false},
		{"SELECT count(*) WHERE sip IN (10.0.0.0/8, 192.168.1.1) AND dip IN 0.0.0.0/0", true, true},
		{"SELECT count(*) WHERE sip BETWEEN 10.0.0.1 AND 10.0.0.9", true, false},
		{"SELECT count(*) WHERE sip = 10.0.0.1 OR sip = 2001:db8::1", false, false},
		{"SELECT count(*) WHERE sip IN ::/0", false, false},
		// A condition is decided on codes: an IPv4 leaf is false for every
		// code past the IPv4 part, so NOT over it is decided too.
		{"SELECT count(*) WHERE NOT sip = 10.0.0.1", true, false},
		{"SELECT count(*) WHERE NOT (sip = 10.0.0.1 OR dip IN 10.0.0.0/8)", true, true},
		// A leaf whose own set reaches beyond IPv4 needs the whole dictionary.
		{"SELECT count(*) WHERE sip != 10.0.0.1", false, false},
		{"SELECT count(*) WHERE dip NOT IN (10.0.0.0/8)", false, false},
		// The column is also a key, an aggregate's input or compared.
		{"SELECT sip, count(*) WHERE sip IN 10.0.0.0/8 GROUP BY sip", false, false},
		{"SELECT count(DISTINCT dip) WHERE dip IN 10.0.0.0/8", false, false},
		{"SELECT count(*) WHERE sip = 10.0.0.1 AND sip < dip", false, false},
	} {
		p := prepare(t, c.q, benchOptions())
		if got := p.v4.has(columnar.ColSIP); got != c.sip {
			t.Errorf("%s: sip IPv4-only %v, want %v", c.q, got, c.sip)
		}
		if got := p.v4.has(columnar.ColDIP); got != c.dip {
			t.Errorf("%s: dip IPv4-only %v, want %v", c.q, got, c.dip)
		}
	}
}
