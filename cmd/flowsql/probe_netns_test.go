//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Helpers of the probe's live tests: throw-away network namespaces joined
// by veth pairs, code run inside a namespace, and the probe (the real
// binary) and tcpdump run inside one. Traffic is only ever sent inside
// these namespaces. Names are unique per test, and t.Cleanup removes
// everything, also when a test fails.

// requireLiveRoot skips the test unless it runs as root with iproute2 and
// outside -short mode.
func requireLiveRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("live probe test: skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("live probe test needs root (namespaces, veth pairs, AF_PACKET); run the tests as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("live probe test needs ip from iproute2")
	}
}

// requireTool skips the test unless tool is installed.
func requireTool(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("live probe test needs %s (apt-get install %s)", tool, tool)
	}
}

// ipCmd runs ip with args, failing the test on error.
func ipCmd(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// liveNS is a network namespace made for one test.
type liveNS struct{ name string }

// newLiveNS creates a namespace with loopback up and IPv6 noise turned
// down (no router solicitations, no DAD delays).
func newLiveNS(t *testing.T, tag string) *liveNS {
	t.Helper()
	ns := &liveNS{name: fmt.Sprintf("fsqp%s-%06x", tag, rand.Uint32()&0xffffff)}
	ipCmd(t, "netns", "add", ns.name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns.name, err, out)
		}
	})
	err := ns.do(func() error {
		for _, f := range []string{"all/router_solicitations", "default/router_solicitations", "all/accept_dad", "default/accept_dad"} {
			if err := os.WriteFile("/proc/sys/net/ipv6/conf/"+f, []byte("0"), 0); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("namespace %s: %v", ns.name, err)
	}
	ipCmd(t, "-n", ns.name, "link", "set", "lo", "up")
	return ns
}

// do runs fn on an OS thread switched into the namespace; sockets fn
// creates stay in the namespace.
func (ns *liveNS) do(fn func() error) error {
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

// exec returns a command that runs inside the namespace.
func (ns *liveNS) exec(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.name, name}, args...)...)
}

// vethLink is a veth pair from namespace a (name ifA) to b (ifB).
type vethLink struct {
	a, b     *liveNS
	ifA, ifB string
}

// newVeth creates a veth pair, gives each end its addresses (CIDR form,
// IPv6 ones nodad) and brings both up.
func newVeth(t *testing.T, a, b *liveNS, ifA, ifB string, addrsA, addrsB []string) *vethLink {
	t.Helper()
	ipCmd(t, "-n", a.name, "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", b.name)
	for _, side := range []struct {
		ns    *liveNS
		iface string
		addrs []string
	}{{a, ifA, addrsA}, {b, ifB, addrsB}} {
		for _, addr := range side.addrs {
			args := []string{"-n", side.ns.name, "addr", "add", addr, "dev", side.iface}
			if strings.Contains(addr, ":") {
				args = append(args, "nodad")
			}
			ipCmd(t, args...)
		}
		ipCmd(t, "-n", side.ns.name, "link", "set", side.iface, "up")
	}
	return &vethLink{a: a, b: b, ifA: ifA, ifB: ifB}
}

// mac returns the hardware address of iface in ns.
func (ns *liveNS) mac(t *testing.T, iface string) net.HardwareAddr {
	t.Helper()
	var hw net.HardwareAddr
	if err := ns.do(func() error {
		ifc, err := net.InterfaceByName(iface)
		if err == nil {
			hw = ifc.HardwareAddr
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return hw
}

// probeProc is a running `flowsql probe`.
type probeProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	db     string
	stderr *syncBuffer
	done   chan error
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProbe runs bin probe in ns with args, storing in db, and waits
// until it captures every interface in ifaces (from its status file).
func startProbe(t *testing.T, bin string, ns *liveNS, db string, ifaces []string, args ...string) *probeProc {
	t.Helper()
	cmd := ns.exec(bin, append([]string{"--db", db, "probe", "--metrics", ""}, args...)...)
	p := &probeProc{t: t, cmd: cmd, db: db, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("probe log:\n%s", p.stderr.String())
		}
	})
	p.waitStatus("capture of "+strings.Join(ifaces, ","), func(st *probeStatusFile) bool {
		if st.PID != cmd.Process.Pid {
			return false // an earlier probe's file
		}
		for _, name := range ifaces {
			if s := st.iface(name); s == nil || !s.Running {
				return false
			}
		}
		return true
	})
	return p
}

// iface returns the status of one interface, or nil.
func (st *probeStatusFile) iface(name string) *ifaceStatusJSON {
	for i := range st.Ifaces {
		if st.Ifaces[i].Iface == name {
			return &st.Ifaces[i]
		}
	}
	return nil
}

// waitStatus polls the probe's status file until cond holds.
func (p *probeProc) waitStatus(what string, cond func(*probeStatusFile) bool) *probeStatusFile {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-p.done:
			p.done <- err
			p.t.Fatalf("probe exited (%v) while waiting for %s:\n%s", err, what, p.stderr.String())
		default:
		}
		if st, err := readStatusFile(p.db); err == nil && cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s; probe log:\n%s", what, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends sig and waits for the probe to exit; it returns the exit error.
func (p *probeProc) stop(sig syscall.Signal) error {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(30 * time.Second):
		p.t.Fatalf("probe did not exit after %v; log:\n%s", sig, p.stderr.String())
	}
	return nil
}

// tcpdumpProc is tcpdump writing a capture of one interface.
type tcpdumpProc struct {
	cmd  *exec.Cmd
	file string
	errb *syncBuffer
}

// startTcpdump captures iface in ns into a pcap file and waits until it
// listens.
func startTcpdump(t *testing.T, ns *liveNS, iface, file string) *tcpdumpProc {
	t.Helper()
	d := &tcpdumpProc{file: file, errb: &syncBuffer{}}
	// -B: a 64 MiB kernel buffer, so a loaded CI machine does not make
	// tcpdump (the reference) drop packets the probe keeps.
	d.cmd = ns.exec("tcpdump", "-i", iface, "--immediate-mode", "-U", "-B", "65536", "-n", "-s", "0", "-w", file)
	d.cmd.Stderr = d.errb
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.cmd.Process.Kill(); _ = d.cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.errb.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("tcpdump did not start: %s", d.errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return d
}

// stop ends the capture, flushing the file.
func (d *tcpdumpProc) stop(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("tcpdump did not stop: %s", d.errb.String())
	}
	out := d.errb.String()
	t.Logf("tcpdump: %s", strings.TrimSpace(out))
	var dropped int
	for _, line := range strings.Split(out, "\n") {
		if n, err := fmt.Sscanf(strings.TrimSpace(line), "%d packets dropped by kernel", &dropped); err == nil && n == 1 && dropped > 0 {
			t.Fatalf("tcpdump, the reference capture, dropped %d packets: the comparison would be meaningless", dropped)
		}
	}
}

// probeBinary builds the flowsql command into a temporary folder.
func probeBinary(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "flowsql")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
