package ingest

import (
	"net/netip"
	"strings"
	"testing"
)

// netipContains is the membership oracle: netip.Prefix.Contains over the
// entries of spec, with IPv4-mapped addresses and prefixes taken as IPv4.
func netipContains(spec string, a netip.Addr) bool {
	a = a.Unmap()
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		p, err := netip.ParsePrefix(item)
		if err != nil {
			b, err := netip.ParseAddr(item)
			if err != nil {
				continue
			}
			p = netip.PrefixFrom(b, b.BitLen())
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// FuzzParseLocalNets: parsing never panics; what parses prints in a form
// that parses to the same set, and agrees with netip on membership.
func FuzzParseLocalNets(f *testing.F) {
	for _, s := range []string{
		"", "10.0.0.0/8", "10.0.0.0/8,2001:db8::/32", "192.168.1.7", " 10.1.2.3/8 , ::1 ",
		"::ffff:10.0.0.0/104", "0.0.0.0/0,::/0", "fe80::1%eth0", "10.0.0.0/33", ",", "1.2.3.4/8/8",
	} {
		f.Add(s, "10.1.2.3")
	}
	f.Fuzz(func(t *testing.T, spec, addr string) {
		l, err := ParseLocalNets(spec)
		if err != nil {
			return
		}
		canon := l.String()
		l2, err := ParseLocalNets(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, spec, err)
		}
		if l2.String() != canon {
			t.Fatalf("%q -> %q -> %q: not stable", spec, canon, l2.String())
		}
		a, err := netip.ParseAddr(addr)
		if err != nil || a.Zone() != "" {
			return
		}
		if got, want := l.Contains(a.As16()), l2.Contains(a.As16()); got != want {
			t.Fatalf("%q and its canonical form %q disagree on %s", spec, canon, a)
		}
		if got, want := l.Contains(a.As16()), netipContains(spec, a); got != want {
			t.Fatalf("%q contains %s: %v, netip says %v", spec, a, got, want)
		}
	})
}
