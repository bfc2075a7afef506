//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowsql/flowsql/internal/netnstest"
)

// Helpers of the probe's live tests: throw-away network namespaces joined
// by veth pairs (made with internal/netnstest), and the probe (the real
// binary) and tcpdump run inside one. Traffic is only ever sent inside
// these namespaces. Names are unique per test, and t.Cleanup removes
// everything, also when a test fails.

// requireLiveRoot skips the test in -short mode, and unless it runs as
// root with iproute2 (see netnstest.Require).
func requireLiveRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("live probe test: skipped in -short mode")
	}
	netnstest.Require(t)
}

// requireTool skips the test unless tool is installed.
func requireTool(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("live probe test needs %s (apt-get install %s)", tool, tool)
	}
}

// newLiveNS creates a namespace (its name carries tag) with loopback up
// and IPv6 noise turned down (no router solicitations, no DAD delays).
func newLiveNS(t *testing.T, tag string) *netnstest.NS {
	t.Helper()
	return netnstest.New(t, "fsqp"+tag+"-", netnstest.QuietIPv6())
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
func startProbe(t *testing.T, bin string, ns *netnstest.NS, db string, ifaces []string, args ...string) *probeProc {
	t.Helper()
	cmd := ns.Command(bin, append([]string{"--db", db, "probe", "--metrics", ""}, args...)...)
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
func startTcpdump(t *testing.T, ns *netnstest.NS, iface, file string) *tcpdumpProc {
	t.Helper()
	d := &tcpdumpProc{file: file, errb: &syncBuffer{}}
	// -B: a 64 MiB kernel buffer, so a loaded CI machine does not make
	// tcpdump (the reference) drop packets the probe keeps.
	d.cmd = ns.Command("tcpdump", "-i", iface, "--immediate-mode", "-U", "-B", "65536", "-n", "-s", "0", "-w", file)
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
