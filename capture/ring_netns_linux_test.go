//go:build linux

package capture

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flowsql/flowsql/internal/netnstest"
)

// Helpers for the live ring tests: throw-away network namespaces joined by
// a veth pair (made with internal/netnstest), code run inside a namespace,
// and a packet collector. Only traffic inside these namespaces is ever sent.

// newTestNS creates a namespace for one test with IPv6 off (no router
// solicitations or MLD reports to muddy the counts); t.Cleanup deletes it,
// also when the test fails.
func newTestNS(t *testing.T) *netnstest.NS {
	t.Helper()
	return netnstest.New(t, "fsqlring-", netnstest.DisableIPv6())
}

// vethNet is two namespaces joined by a veth pair: va (10.201.0.1) in a,
// vb (10.201.0.2) in b.
type vethNet struct{ a, b *netnstest.NS }

func newVethNet(t *testing.T) *vethNet {
	t.Helper()
	n := &vethNet{a: newTestNS(t), b: newTestNS(t)}
	netnstest.NewVeth(t, n.a, n.b, "va", "vb", []string{"10.201.0.1/24"}, []string{"10.201.0.2/24"})
	return n
}

// openRingIn opens a ring on iface inside ns; t.Cleanup closes it.
func openRingIn(t *testing.T, ctx context.Context, ns *netnstest.NS, iface string, opts RingOptions) *Ring {
	t.Helper()
	var r *Ring
	if err := ns.Do(func() (err error) {
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
func udpIn(t *testing.T, ns *netnstest.NS, laddr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	if err := ns.Do(func() error {
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

func rawSenderIn(t *testing.T, ns *netnstest.NS, iface string) *rawSender {
	t.Helper()
	s := &rawSender{fd: -1}
	if err := ns.Do(func() (err error) {
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
