//go:build linux

package netnstest

import (
	"strings"
	"testing"
)

// Veth is a veth pair from namespace A (device IfA) to B (device IfB).
type Veth struct {
	A, B     *NS
	IfA, IfB string
}

// NewVeth creates a veth pair ifA in a to ifB in b, gives each end its
// addresses (CIDR form, e.g. "10.0.0.1/24"; IPv6 ones get nodad, so they
// are usable at once) and brings both ends up. It fails the test on any
// error. The pair goes away with its namespaces.
func NewVeth(t testing.TB, a, b *NS, ifA, ifB string, addrsA, addrsB []string) *Veth {
	t.Helper()
	IP(t, "-n", a.name, "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", b.name)
	for _, side := range []struct {
		ns    *NS
		iface string
		addrs []string
	}{{a, ifA, addrsA}, {b, ifB, addrsB}} {
		for _, addr := range side.addrs {
			args := []string{"-n", side.ns.name, "addr", "add", addr, "dev", side.iface}
			if strings.Contains(addr, ":") {
				args = append(args, "nodad")
			}
			IP(t, args...)
		}
		IP(t, "-n", side.ns.name, "link", "set", side.iface, "up")
	}
	return &Veth{A: a, B: b, IfA: ifA, IfB: ifB}
}
