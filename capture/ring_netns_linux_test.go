//go:build linux

package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Helpers for the live ring tests: throw-away network namespaces joined by
// a veth pair, code run inside a namespace, and a packet collector. Only
// traffic inside these namespaces is ever sent.

// requireNetAdmin skips the test unless it runs as root with iproute2's
// ip. With CI=true and root, a missing ip is a failure, not a skip.
func requireNetAdmin(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live ring test needs root (CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_ADMIN for namespaces); run the tests as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("live ring test: ip (iproute2) not found; CI must have it: apt-get install -y iproute2")
		}
		t.Skip("live ring test needs ip from iproute2: apt-get install -y iproute2")
	}
}

// runIP runs ip with args and fails the test with its output on error.
func runIP(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// testNS is a network namespace made for one test.
type testNS struct{ name string }

// newTestNS creates a namespace with a unique name, brings its loopback up
// and turns IPv6 off (no router solicitations or MLD reports to muddy the
// counts); t.Cleanup deletes it, also when the test fails.
func newTestNS(t *testing.T) *testNS {
	t.Helper()
	ns := &testNS{name: fmt.Sprintf("fsqlring-%08x", rand.Uint32())}
	runIP(t, "netns", "add", ns.name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns.name, err, out)
		}
	})
	err := ns.do(func() error {
		for _, p := range []string{"all", "default"} {
			f := "/proc/sys/net/ipv6/conf/" + p + "/disable_ipv6"
			if err := os.WriteFile(f, []byte("1"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("namespace %s: disabling IPv6: %v", ns.name, err)
	}
	runIP(t, "-n", ns.name, "link", "set", "lo", "up")
	return ns
}

// do runs fn on an OS thread switched into the namespace. Sockets and
// devices fn creates stay in the namespace after it returns. If the thread
// cannot switch back it stays locked, and the runtime discards it.
func (ns *testNS) do(fn func() error) error {
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
			return // thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// vethNet is two namespaces joined by a veth pair: va (10.201.0.1) in a,
// vb (10.201.0.2) in b.
type vethNet struct {
	a, b     *testNS
	ipA, ipB net.IP
}

func newVethNet(t *testing.T) *vethNet {
	t.Helper()
	n := &vethNet{a: newTestNS(t), b: newTestNS(t), ipA: net.IPv4(10, 201, 0, 1), ipB: net.IPv4(10, 201, 0, 2)}
	runIP(t, "-n", n.a.name, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", n.b.name)
	runIP(t, "-n", n.a.name, "addr", "add", "10.201.0.1/24", "dev", "va")
	runIP(t, "-n", n.b.name, "addr", "add", "10.201.0.2/24", "dev", "vb")
	runIP(t, "-n", n.a.name, "link", "set", "va", "up")
	runIP(t, "-n", n.b.name, "link", "set", "vb", "up")
	return n
}

// openRingIn opens a ring on iface inside ns; t.Cleanup closes it.
func openRingIn(t *testing.T, ctx context.Context, ns *testNS, iface string, opts RingOptions) *Ring {
	t.Helper()
	var r *Ring
	if err := ns.do(func() (err error) {
		r, err = OpenRing(ctx, iface, opts)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// udpIn opens a UDP socket in ns bound to laddr ("ip:port"); t.Cleanup
// closes it.
func udpIn(t *testing.T, ns *testNS, laddr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	if err := ns.do(func() error {
		a, err := net.ResolveUDPAddr("udp4", laddr)
		if err != nil {
			return err
		}
		c, err = net.ListenUDP("udp4", a)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawSender is an AF_PACKET socket that writes whole frames on a device.
type rawSender struct {
	fd    int
	index int
}

func rawSenderIn(t *testing.T, ns *testNS, iface string) *rawSender {
	t.Helper()
	s := &rawSender{fd: -1}
	if err := ns.do(func() (err error) {
		if s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		s.index, _, err = ifaceInfo(s.fd, iface)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(s.fd) })
	return s
}

func (s *rawSender) send(t *testing.T, frame []byte) {
	t.Helper()
	sa := unix.SockaddrLinklayer{Ifindex: s.index, Halen: 6}
	copy(sa.Addr[:], frame[:6])
	if err := unix.Sendto(s.fd, frame, 0, &sa); err != nil {
		t.Fatalf("sending a %d-byte frame: %v", len(frame), err)
	}
}

// livePkt is a packet copied out of a ring.
type livePkt struct {
	data []byte
	info PacketInfo
}

// collector reads a ring in a goroutine until it returns an error.
type collector struct {
	pkts chan livePkt
	done chan error
}

func collect(r *Ring) *collector {
	c := &collector{pkts: make(chan livePkt, 1<<16), done: make(chan error, 1)}
	go func() {
		for {
			data, info, err := r.AppendPacket(nil)
			if err != nil {
				close(c.pkts)
				c.done <- err
				return
			}
			c.pkts <- livePkt{data, info}
		}
	}()
	return c
}

// take returns the packets that match keep, waiting until n of them came
// (or timeout), then for quiet more to catch any extra one.
func (c *collector) take(t *testing.T, n int, keep func(livePkt) bool, timeout, quiet time.Duration) []livePkt {
	t.Helper()
	var got []livePkt
	deadline := time.After(timeout)
	var settle <-chan time.Time
	if n == 0 {
		settle = time.After(quiet)
	}
	for {
		select {
		case p, ok := <-c.pkts:
			if !ok {
				t.Fatalf("ring reader stopped after %d packets: %v", len(got), <-c.done)
			}
			if keep == nil || keep(p) {
				got = append(got, p)
				if len(got) == n {
					settle = time.After(quiet)
				}
			}
		case <-deadline:
			t.Fatalf("timed out with %d of %d packets", len(got), n)
		case <-settle:
			return got
		}
	}
}

// stop cancels the ring's context with cancel and waits for the reader.
func (c *collector) stop(t *testing.T, cancel context.CancelFunc) {
	t.Helper()
	cancel()
	select {
	case err := <-c.done:
		if !errors.Is(err, ErrRingClosed) || !errors.Is(err, context.Canceled) {
			t.Errorf("reader stopped with %v, want ErrRingClosed wrapping context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reader did not stop after the context was cancelled")
	}
}

// isUDPTo reports whether an Ethernet IPv4 packet is UDP to port.
func isUDPTo(port uint16) func(livePkt) bool {
	return func(p livePkt) bool {
		d := p.data
		return len(d) >= 38 && d[12] == 0x08 && d[13] == 0 && d[23] == protoUDP &&
			uint16(d[36])<<8|uint16(d[37]) == port
	}
}

// hasPrefix reports whether p's data is the start of frame.
func hasPrefix(p livePkt, frame []byte) bool { return bytes.HasPrefix(frame, p.data) }
