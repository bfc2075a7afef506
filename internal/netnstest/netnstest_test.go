//go:build linux

package netnstest

import (
	"bytes"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// nsExists reports whether ip netns knows name.
func nsExists(name string) bool {
	_, err := os.Stat("/var/run/netns/" + name)
	return err == nil
}

// readSysctl reads /proc/sys/key inside ns.
func readSysctl(t *testing.T, ns *NS, key string) string {
	t.Helper()
	var v []byte
	if err := ns.Do(func() (err error) {
		v, err = os.ReadFile("/proc/sys/" + key)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(v))
}

func TestNewAndCleanup(t *testing.T) {
	Require(t)
	var name string
	t.Run("inner", func(t *testing.T) {
		ns := New(t, "fsqlnt-")
		name = ns.Name()
		if !strings.HasPrefix(name, "fsqlnt-") || len(name) != len("fsqlnt-")+8 {
			t.Errorf("name %q, want fsqlnt- and 8 hex digits", name)
		}
		if !nsExists(name) {
			t.Fatalf("namespace %s not created", name)
		}
		var ifaces []net.Interface
		if err := ns.Do(func() (err error) {
			ifaces, err = net.Interfaces()
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(ifaces) != 1 || ifaces[0].Name != "lo" || ifaces[0].Flags&net.FlagUp == 0 {
			t.Errorf("interfaces in the namespace: %+v, want only lo, up", ifaces)
		}
	})
	if name == "" {
		t.Fatal("subtest did not create a namespace")
	}
	if nsExists(name) {
		t.Errorf("namespace %s still exists after its test ended", name)
	}
}

func TestDoReturnsError(t *testing.T) {
	Require(t)
	ns := New(t, "fsqlnt-")
	want := errors.New("from fn")
	if err := ns.Do(func() error { return want }); !errors.Is(err, want) {
		t.Errorf("Do returned %v, want fn's error", err)
	}
	gone := &NS{name: "fsqlnt-does-not-exist"}
	ran := false
	if err := gone.Do(func() error { ran = true; return nil }); err == nil || ran {
		t.Errorf("Do in a missing namespace: err %v, ran %v; want an error and fn not run", err, ran)
	}
}

func TestSysctlOptions(t *testing.T) {
	Require(t)
	if _, err := os.Stat("/proc/sys/net/ipv6"); err != nil {
		t.Skip("kernel without IPv6")
	}
	off := New(t, "fsqlnt-", DisableIPv6())
	quiet := New(t, "fsqlnt-", QuietIPv6())
	custom := New(t, "fsqlnt-", Sysctl("net/ipv6/conf/default/hop_limit", "42"))
	for _, c := range []struct {
		ns        *NS
		key, want string
	}{
		{off, "net/ipv6/conf/all/disable_ipv6", "1"},
		{off, "net/ipv6/conf/default/disable_ipv6", "1"},
		{quiet, "net/ipv6/conf/all/disable_ipv6", "0"},
		{quiet, "net/ipv6/conf/all/router_solicitations", "0"},
		{quiet, "net/ipv6/conf/default/router_solicitations", "0"},
		{quiet, "net/ipv6/conf/all/accept_dad", "0"},
		{quiet, "net/ipv6/conf/default/accept_dad", "0"},
		{custom, "net/ipv6/conf/default/hop_limit", "42"},
	} {
		if got := readSysctl(t, c.ns, c.key); got != c.want {
			t.Errorf("%s: %s = %s, want %s", c.ns.Name(), c.key, got, c.want)
		}
	}
	// The host's own settings are untouched.
	host, err := os.ReadFile("/proc/sys/net/ipv6/conf/default/hop_limit")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(host)) == "42" {
		t.Error("the Sysctl option changed the host's hop_limit")
	}
}

func TestNewVeth(t *testing.T) {
	Require(t)
	a := New(t, "fsqlnt-", QuietIPv6())
	b := New(t, "fsqlnt-", QuietIPv6())
	v := NewVeth(t, a, b, "nta", "ntb", []string{"10.203.0.1/24", "fd00:203::1/64"}, []string{"10.203.0.2/24"})
	if v.A != a || v.B != b || v.IfA != "nta" || v.IfB != "ntb" {
		t.Errorf("NewVeth returned %+v", v)
	}
	macA, macB := a.MAC(t, "nta"), b.MAC(t, "ntb")
	if len(macA) != 6 || len(macB) != 6 || bytes.Equal(macA, macB) {
		t.Errorf("MACs %v and %v, want two distinct Ethernet addresses", macA, macB)
	}

	// ip inside b sees the same MAC for ntb as MAC does, and its address.
	out, err := b.Command("ip", "-o", "addr", "show", "dev", "ntb").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns exec: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "10.203.0.2/24") {
		t.Errorf("ntb addresses: %s", out)
	}
	out, err = b.Command("cat", "/sys/class/net/ntb/address").Output()
	if err != nil || strings.TrimSpace(string(out)) != macB.String() {
		t.Errorf("ntb address from sysfs %q (%v), MAC gave %v", out, err, macB)
	}

	// An IPv6 address got nodad: usable at once, not tentative.
	out, err = a.Command("ip", "-o", "-6", "addr", "show", "dev", "nta").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns exec: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "fd00:203::1/64") || strings.Contains(string(out), "tentative") {
		t.Errorf("nta IPv6 address missing or tentative: %s", out)
	}

	// A datagram sent from b reaches a over the pair.
	var srv *net.UDPConn
	if err := a.Do(func() (err error) {
		srv, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(10, 203, 0, 1), Port: 9999})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := b.Do(func() error {
		c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(10, 203, 0, 1), Port: 9999})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("hello"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_ = srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	n, from, err := srv.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no datagram over the veth pair: %v", err)
	}
	if string(buf[:n]) != "hello" || !from.IP.Equal(net.IPv4(10, 203, 0, 2)) {
		t.Errorf("got %q from %v, want hello from 10.203.0.2", buf[:n], from)
	}
}

func TestMACMissingInterface(t *testing.T) {
	Require(t)
	ns := New(t, "fsqlnt-")
	ft := &fatalTB{TB: t}
	func() {
		defer func() { _ = recover() }()
		ns.MAC(ft, "nosuchif0")
	}()
	if !ft.failed {
		t.Error("MAC of a missing interface did not fail the test")
	}
}

// fatalTB records Fatalf instead of stopping the real test.
type fatalTB struct {
	testing.TB
	failed bool
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.failed = true
	panic("fatal")
}
