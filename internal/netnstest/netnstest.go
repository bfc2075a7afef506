//go:build linux

package netnstest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Require skips the test unless it runs as root with ip from iproute2 on
// the PATH. With CI=true and root, a missing ip fails the test instead: a
// CI machine must run the live tests, not skip them silently.
func Require(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network-namespace test needs root (CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_ADMIN for namespaces); run the tests as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("network-namespace test: ip (iproute2) not found; CI must have it: apt-get install -y iproute2")
		}
		t.Skip("network-namespace test needs ip from iproute2: apt-get install -y iproute2")
	}
}

// IP runs ip with args and fails the test with its output on error.
func IP(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// NS is a network namespace made for one test by New.
type NS struct{ name string }

// sysctl is one /proc/sys setting written in a new namespace.
type sysctl struct{ key, value string }

// config collects New's options.
type config struct{ sysctls []sysctl }

// Option changes how New sets up a namespace.
type Option func(*config)

// Sysctl makes New write value to /proc/sys/key inside the namespace, key
// being slash-separated (e.g. "net/ipv6/conf/all/disable_ipv6"). Settings
// are written in the order given. A key the kernel does not have (IPv6
// compiled out, say) is skipped; any other write error fails the test.
func Sysctl(key, value string) Option {
	return func(c *config) { c.sysctls = append(c.sysctls, sysctl{key, value}) }
}

// DisableIPv6 turns IPv6 off in the namespace (all and default), so no
// router solicitation or MLD report muddies packet counts.
func DisableIPv6() Option {
	return func(c *config) {
		for _, p := range []string{"all", "default"} {
			Sysctl("net/ipv6/conf/"+p+"/disable_ipv6", "1")(c)
		}
	}
}

// QuietIPv6 keeps IPv6 on but turns its noise down (all and default): no
// router solicitations and no duplicate address detection, so addresses
// are usable at once.
func QuietIPv6() Option {
	return func(c *config) {
		for _, f := range []string{"all/router_solicitations", "default/router_solicitations", "all/accept_dad", "default/accept_dad"} {
			Sysctl("net/ipv6/conf/"+f, "0")(c)
		}
	}
}

// New creates a namespace named prefix followed by eight random hex
// digits, applies opts' sysctls inside it and brings its loopback up.
// t.Cleanup deletes it, also when the test fails; deleting it removes the
// devices in it too.
func New(t testing.TB, prefix string, opts ...Option) *NS {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	ns := &NS{name: fmt.Sprintf("%s%08x", prefix, rand.Uint32())}
	IP(t, "netns", "add", ns.name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns.name, err, out)
		}
	})
	if len(c.sysctls) > 0 {
		err := ns.Do(func() error {
			for _, s := range c.sysctls {
				err := os.WriteFile("/proc/sys/"+s.key, []byte(s.value), 0)
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("sysctl %s=%s: %w", s.key, s.value, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("namespace %s: %v", ns.name, err)
		}
	}
	IP(t, "-n", ns.name, "link", "set", "lo", "up")
	return ns
}

// Name returns the namespace's name, as ip netns knows it.
func (ns *NS) Name() string { return ns.name }

// Do runs fn on an OS thread switched into the namespace and returns fn's
// error (or why the switch failed). Sockets and devices fn creates stay in
// the namespace after it returns. fn runs on another goroutine, so it must
// not call t.Fatal; it returns an error instead. If the thread cannot
// switch back it stays locked, and the runtime discards it.
func (ns *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open("/var/run/netns/" + ns.name)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("setns %s: %w", ns.name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("setns back: %w", err))
			return // the thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Command returns a command that runs name with args inside the namespace
// (through ip netns exec); the caller starts and waits for it.
func (ns *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.name, name}, args...)...)
}

// MAC returns the hardware address of iface in the namespace, failing the
// test if there is no such interface.
func (ns *NS) MAC(t testing.TB, iface string) net.HardwareAddr {
	t.Helper()
	var hw net.HardwareAddr
	if err := ns.Do(func() error {
		ifc, err := net.InterfaceByName(iface)
		if err == nil {
			hw = ifc.HardwareAddr
		}
		return err
	}); err != nil {
		t.Fatalf("namespace %s: %v", ns.name, err)
	}
	return hw
}
