//go:build linux

package main

import (
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowsql/flowsql/internal/netnstest"
	pb "github.com/flowsql/flowsql/internal/pktbuild"
)

// Addresses of the live tests: namespace A runs the probe on vethA and the
// servers; namespace B the clients, one source address per kind of
// traffic so that every flow is told apart by its addresses.
var (
	lvA      = netip.MustParseAddr("10.77.0.1")
	lvTCP    = netip.MustParseAddr("10.77.0.2")
	lvUDP    = netip.MustParseAddr("10.77.0.3")
	lvPing   = netip.MustParseAddr("10.77.0.4")
	lvFrag   = netip.MustParseAddr("10.77.0.5")
	lvA6     = netip.MustParseAddr("fd77::1")
	lvTCP6   = netip.MustParseAddr("fd77::2")
	lvUDP6   = netip.MustParseAddr("fd77::3")
	lvVLANc  = netip.MustParseAddr("10.77.100.2") // only in raw tagged frames
	lvVLANs  = netip.MustParseAddr("10.77.100.1")
	lvAddrsA = []string{"10.77.0.1/24", "fd77::1/64"}
	lvAddrsB = []string{"10.77.0.2/24", "10.77.0.3/24", "10.77.0.4/24", "10.77.0.5/24", "fd77::2/64", "fd77::3/64"}
)

// Frame sizes of the traffic whose expectation is computed, not measured.
const (
	lvUDPCount, lvUDPSize   = 20, 100 // IPv4 datagrams: 14+20+8+100 = 142 bytes
	lvUDP6Count, lvUDP6Size = 15, 200 // IPv6: 14+40+8+200 = 262
	lvPingCount, lvPingSize = 3, 100  // echo request and reply: 14+20+8+100 = 142
	lvFragCount, lvFragSize = 4, 3000 // 3008 bytes of IP payload in 1480+1480+48: frames 1514+1514+82
	lvVLANCount, lvVLANSize = 10, 50  // tagged: 14+4+20+8+50 = 96 on the wire
)

// TestProbeCapturesKnownTraffic runs the real probe in namespace A while
// namespace B sends TCP (IPv4, IPv6), UDP (IPv4, IPv6), ICMP echo,
// fragmented UDP and VLAN-tagged frames. After SIGTERM the stored flows
// must equal what was sent: per flow and direction, with the client as
// sip and the server's port as dport. UDP, ICMP, fragments and VLAN
// frames are computed from what was sent; TCP (whose segmentation and
// acknowledgements the kernel decides) from tcpdump running beside the
// probe. Then the tcpdump capture, ingested with `flowsql ingest`, must
// give the same flows.
func TestProbeCapturesKnownTraffic(t *testing.T) {
	requireLiveRoot(t)
	requireTool(t, "tcpdump")
	requireTool(t, "ping")
	bin := probeBinary(t)
	a, b := newLiveNS(t, "a"), newLiveNS(t, "b")
	netnstest.NewVeth(t, a, b, "vethA", "vethB", lvAddrsA, lvAddrsB)
	macA, macB := a.MAC(t, "vethA"), b.MAC(t, "vethB")
	udpSink(t, a, lvA, 5353)
	udpSink(t, a, lvA6, 5353)
	udpSink(t, a, lvA, 5354)
	time.Sleep(500 * time.Millisecond) // let the address set-up chatter pass

	tmp := t.TempDir()
	db := filepath.Join(tmp, "live")
	probe := startProbe(t, bin, a, db, []string{"vethA"}, "-i", "vethA")
	dump := startTcpdump(t, a, "vethA", filepath.Join(tmp, "vethA.pcap"))

	tcpExchange(t, a, b, lvA, lvTCP, 8080, 5000, 20000)
	tcpExchange(t, a, b, lvA6, lvTCP6, 8443, 3000, 7000)
	newUDPSender(t, b, lvUDP, lvA, 5353).send(t, lvUDPCount, lvUDPSize, 1, 0)
	newUDPSender(t, b, lvUDP6, lvA6, 5353).send(t, lvUDP6Count, lvUDP6Size, 1, 0)
	newUDPSender(t, b, lvFrag, lvA, 5354).send(t, lvFragCount, lvFragSize, 1, 0)
	if out, err := b.Command("ping", "-n", "-c", fmt.Sprint(lvPingCount), "-i", "0.2", "-s", fmt.Sprint(lvPingSize),
		"-I", lvPing.String(), lvA.String()).CombinedOutput(); err != nil {
		t.Fatalf("ping: %v\n%s", err, out)
	}
	raw := newRawSender(t, b, "vethB")
	vlanFrame := pb.MustBuild(pb.Ethernet{Dst: [6]byte(macA), Src: [6]byte(macB)}, pb.VLAN{ID: 100},
		pb.IPv4{Src: lvVLANc, Dst: lvVLANs}, pb.UDP{SrcPort: 41000, DstPort: 9999}, pb.Payload(make([]byte, lvVLANSize)))
	for range lvVLANCount {
		raw.send(t, vlanFrame)
	}
	time.Sleep(500 * time.Millisecond) // past the ring's 100 ms block timeout
	dump.stop(t)
	if err := probe.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("probe exit after SIGTERM: %v\n%s", err, probe.stderr.String())
	}

	got, metas := storedFlows(t, db, "vethA")
	seen := readPcapFrames(t, dump.file)
	if len(metas) == 0 {
		t.Fatal("nothing stored")
	}
	tcp4 := pairVal(seen, lvA, lvTCP, 6)
	tcp6 := pairVal(seen, lvA6, lvTCP6, 6)
	for _, v := range []liveVal{tcp4, tcp6} {
		if v.pin < 4 || v.pout < 3 { // handshake, data, teardown both ways
			t.Fatalf("tcpdump saw too little TCP: %+v", v)
		}
	}
	want := []struct {
		name string
		key  liveKey
		val  liveVal
	}{
		{"tcp4", liveKey{lvTCP, lvA, 8080, 6}, tcp4},
		{"tcp6", liveKey{lvTCP6, lvA6, 8443, 6}, tcp6},
		{"udp4", liveKey{lvUDP, lvA, 5353, 17}, liveVal{pin: lvUDPCount, bin: lvUDPCount * (42 + lvUDPSize)}},
		{"udp6", liveKey{lvUDP6, lvA6, 5353, 17}, liveVal{pin: lvUDP6Count, bin: lvUDP6Count * (62 + lvUDP6Size)}},
		{"icmp", liveKey{lvPing, lvA, 0, 1}, liveVal{pin: lvPingCount, bin: lvPingCount * (42 + lvPingSize),
			pout: lvPingCount, bout: lvPingCount * (42 + lvPingSize)}},
		{"fragments", liveKey{lvFrag, lvA, 5354, 17}, liveVal{pin: 3 * lvFragCount, bin: lvFragCount * (1514 + 1514 + 82)}},
		{"vlan", liveKey{lvVLANc, lvVLANs, 9999, 17}, liveVal{pin: lvVLANCount, bin: lvVLANCount * (18 + 28 + lvVLANSize)}},
	}
	for _, w := range want {
		t.Run(w.name, func(t *testing.T) {
			if g := got[w.key]; g != w.val {
				t.Errorf("stored %+v = %+v, want %+v", w.key, g, w.val)
			}
			if w.name != "vlan" { // tcpdump agrees with the computed value
				local, remote := w.key.dip, w.key.sip
				if s := pairVal(seen, local, remote, w.key.proto); s != w.val {
					t.Errorf("tcpdump saw %+v, want %+v", s, w.val)
				}
			}
			for k, v := range got { // no other row for the same conversation
				if k != w.key && k.proto == w.key.proto && sameAddrs(k, w.key) {
					t.Errorf("extra row %+v = %+v", k, v)
				}
			}
		})
	}

	// The same traffic from tcpdump's file, through `flowsql ingest`.
	db2 := filepath.Join(tmp, "fromfile")
	local := strings.Join([]string{lvA.String(), lvA6.String(), lvVLANs.String()}, ",")
	if out, err := exec.Command(bin, "--db", db2, "ingest", "--iface", "vethA", "--local", local, dump.file).CombinedOutput(); err != nil {
		t.Fatalf("flowsql ingest: %v\n%s", err, out)
	}
	fromFile, _ := storedFlows(t, db2, "vethA")
	mine := map[netip.Addr]bool{}
	for _, a := range []netip.Addr{lvA, lvTCP, lvUDP, lvPing, lvFrag, lvA6, lvTCP6, lvUDP6, lvVLANc, lvVLANs} {
		mine[a] = true
	}
	keys := map[liveKey]bool{}
	for _, m := range []map[liveKey]liveVal{got, fromFile} {
		for k := range m {
			if mine[k.sip] && mine[k.dip] { // not address set-up chatter (multicast, link-local)
				keys[k] = true
			}
		}
	}
	for k := range keys {
		if got[k] != fromFile[k] {
			t.Errorf("flow %v: live %+v, tcpdump + ingest %+v", k, got[k], fromFile[k])
		}
	}
	if len(keys) < len(want) {
		t.Errorf("only %d flows compared with tcpdump", len(keys))
	}
}

// sameAddrs reports whether two keys join the same two addresses.
func sameAddrs(x, y liveKey) bool {
	return (x.sip == y.sip && x.dip == y.dip) || (x.sip == y.dip && x.dip == y.sip)
}
