//go:build linux

package main

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/flowsql/flowsql/internal/netnstest"
)

// TestProbeReloadAndInterfaceChanges: SIGHUP adds and removes interfaces
// without losing packets; an interface that goes down and up keeps being
// captured; one that disappears writes its block and is captured again
// when it comes back (with a new index).
func TestProbeReloadAndInterfaceChanges(t *testing.T) {
	requireLiveRoot(t)
	bin := probeBinary(t)
	a, b := newLiveNS(t, "a"), newLiveNS(t, "b")
	a1, b1 := netip.MustParseAddr("10.78.1.1"), netip.MustParseAddr("10.78.1.2")
	a2, b2 := netip.MustParseAddr("10.78.2.1"), netip.MustParseAddr("10.78.2.2")
	netnstest.NewVeth(t, a, b, "vA1", "vB1", []string{"10.78.1.1/24"}, []string{"10.78.1.2/24"})
	mk2 := func() { netnstest.NewVeth(t, a, b, "vA2", "vB2", []string{"10.78.2.1/24"}, []string{"10.78.2.2/24"}) }
	mk2()
	udpSink(t, a, a1, 7000)
	udpSink(t, a, a2, 7000) // stays bound while vA2 is gone and back
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "probe.yaml")
	writeCfg := func(ifaces string) {
		t.Helper()
		if err := os.WriteFile(cfg, []byte("# test\ninterfaces: ["+ifaces+"]\ninterval: 300s\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("vA1")
	db := filepath.Join(tmp, "db")
	probe := startProbe(t, bin, a, db, []string{"vA1"}, "--config", cfg)
	hup := func(what string, cond func(*probeStatusFile) bool) {
		t.Helper()
		if err := probe.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		probe.waitStatus(what, cond)
	}
	running := func(st *probeStatusFile, name string) bool {
		s := st.iface(name)
		return s != nil && s.Running
	}
	sendTo := func(src, dst netip.Addr, n int) int {
		t.Helper()
		return newUDPSender(t, b, src, dst, 7000).send(t, n, 64, 50, 2*time.Millisecond)
	}
	processed := func(name string, n uint64) {
		t.Helper()
		probe.waitStatus(name+" packets", func(st *probeStatusFile) bool {
			s := st.iface(name)
			return s != nil && s.Packets >= n
		})
	}

	want1 := sendTo(b1, a1, 500)
	processed("vA1", uint64(want1))
	writeCfg("vA1, vA2") // add vA2
	hup("vA2 added", func(st *probeStatusFile) bool { return running(st, "vA1") && running(st, "vA2") })
	want2 := sendTo(b2, a2, 400)
	processed("vA2", uint64(want2))
	writeCfg("vA2") // remove vA1: its block is written now
	hup("vA1 removed", func(st *probeStatusFile) bool { return !running(st, "vA1") && running(st, "vA2") })
	if s := probe.waitStatus("vA1 block", func(st *probeStatusFile) bool { return st.iface("vA1").Blocks >= 1 }).iface("vA1"); s.Packets < uint64(want1) {
		t.Errorf("vA1 processed %d packets, sent %d", s.Packets, want1) // more: IPv6 neighbour discovery
	}

	// Down and up: the same ring goes on.
	netnstest.IP(t, "-n", a.Name(), "link", "set", "vA2", "down")
	time.Sleep(300 * time.Millisecond)
	netnstest.IP(t, "-n", a.Name(), "link", "set", "vA2", "up")
	waitOperUp(t, b, "vB2")
	want2 += sendTo(b2, a2, 300)
	processed("vA2", uint64(want2))

	// Gone: the block is written; back with a new index: captured again.
	netnstest.IP(t, "-n", a.Name(), "link", "del", "vA2")
	probe.waitStatus("vA2 gone", func(st *probeStatusFile) bool { return !running(st, "vA2") })
	mk2()
	waitOperUp(t, b, "vB2")
	probe.waitStatus("vA2 back", func(st *probeStatusFile) bool { return running(st, "vA2") })
	want2 += sendTo(b2, a2, 200)
	processed("vA2", uint64(want2))

	if err := probe.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("probe exit: %v", err)
	}
	if out, err := exec.Command(bin, "--db", db, "check").CombinedOutput(); err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	got1, metas1 := storedFlows(t, db, "vA1")
	got2, metas2 := storedFlows(t, db, "vA2")
	if v := got1[liveKey{b1, a1, 7000, 17}]; v.pin != uint64(want1) {
		t.Errorf("vA1: %d packets stored, %d sent", v.pin, want1)
	}
	if v := got2[liveKey{b2, a2, 7000, 17}]; v.pin != uint64(want2) {
		t.Errorf("vA2: %d packets stored, %d sent", v.pin, want2)
	}
	// vA2: a block cut when it went away, another from when it came back
	// (more if a 5-minute boundary passed during the test).
	if len(metas1) < 1 || len(metas2) < 2 {
		t.Errorf("blocks: vA1 %d (want 1), vA2 %d (want 2)", len(metas1), len(metas2))
	}
	t.Logf("vA1 %d packets in %d blocks, vA2 %d packets in %d blocks", want1, len(metas1), want2, len(metas2))
}

// waitOperUp waits until iface in ns has carrier (operstate up).
func waitOperUp(t *testing.T, ns *netnstest.NS, iface string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := ns.Command("cat", "/sys/class/net/"+iface+"/operstate").Output()
		if string(out) == "up\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up: %q", iface, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
