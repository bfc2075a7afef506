//go:build linux

package capture

import (
	"context"
	"encoding/binary"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/flowsql/flowsql/internal/netnstest"
)

// liveOpts are ring options for tests: small and quick to retire blocks.
var liveOpts = RingOptions{BlockSize: 64 << 10, NumBlocks: 4, RetireTimeout: 5 * time.Millisecond}

// TestRingLiveUDP sends datagrams of known sizes from b to a and wants
// exactly those packets, cut after the transport header, on a's ring as
// inbound and on b's ring as outbound; ARP is filtered out by the kernel.
func TestRingLiveUDP(t *testing.T) {
	netnstest.Require(t)
	n := newVethNet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ra := openRingIn(t, ctx, n.a, "va", liveOpts)
	rb := openRingIn(t, ctx, n.b, "vb", liveOpts)
	if l := ra.Interfaces()[0]; l.Link != LinkEthernet || l.Name != "va" {
		t.Errorf("Interfaces = %+v", ra.Interfaces())
	}
	ca, cb := collect(ra), collect(rb)
	dst := udpIn(t, n.a, "10.201.0.1:9999")
	src := udpIn(t, n.b, "10.201.0.2:0")
	sizes := []int{0, 5, 6, 100, 1000, 1472}
	for _, s := range sizes {
		if _, err := src.WriteToUDP(make([]byte, s), dst.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
	}
	// Everything IP on the wire is ours (IPv6 is off); ARP is filtered.
	got := ca.take(t, len(sizes), nil, 5*time.Second, 300*time.Millisecond)
	sent := cb.take(t, len(sizes), nil, 5*time.Second, 100*time.Millisecond)
	// Packets may be reordered between CPUs: match them by length.
	byLen := func(pkts []livePkt) map[uint32]livePkt {
		m := map[uint32]livePkt{}
		for _, p := range pkts {
			m[p.info.OrigLen] = p
		}
		return m
	}
	gotBy, sentBy := byLen(got), byLen(sent)
	for i, s := range sizes {
		wire := uint32(14 + 20 + 8 + s)
		want := min(wire, 14+20+FilterTransportBytes)
		for _, side := range []struct {
			p   livePkt
			dir Direction
		}{{gotBy[wire], DirInbound}, {sentBy[wire], DirOutbound}} {
			in := side.p.info
			if in.OrigLen != wire || in.CapLen != want || uint32(len(side.p.data)) != want ||
				in.Dir != side.dir || in.Link != LinkEthernet || in.VLANOffloaded {
				t.Errorf("datagram %d (%d bytes): info %+v, %d data bytes; want OrigLen %d CapLen %d Dir %d",
					i, s, in, len(side.p.data), wire, want, side.dir)
			}
			if !isUDPTo(9999)(side.p) {
				t.Errorf("datagram %d: not UDP to 9999: %x", i, side.p.data)
			}
			if age := time.Since(time.Unix(0, in.Timestamp)); age < 0 || age > time.Minute {
				t.Errorf("datagram %d: timestamp %v", i, time.Unix(0, in.Timestamp))
			}
		}
	}
	st := ra.Stats()
	if st.Packets != uint64(len(sizes)) || st.Drops != 0 {
		t.Errorf("stats %+v, want %d packets, no drops", st, len(sizes))
	}
	if again := ra.Stats(); again != st {
		t.Errorf("stats changed without traffic: %+v then %+v", st, again)
	}
	ca.stop(t, cancel)
	cb.stop(t, func() {})
}

// TestRingLiveLayout checks the kernel's block layout against the
// assumptions of the walker and the mock (ring.go): descriptor fields,
// tp_mac/tp_net of an Ethernet frame, sockaddr_ll.
func TestRingLiveLayout(t *testing.T) {
	netnstest.Require(t)
	n := newVethNet(t)
	r := openRingIn(t, context.Background(), n.a, "va", liveOpts)
	dst := udpIn(t, n.a, "10.201.0.1:9999")
	src := udpIn(t, n.b, "10.201.0.2:0")
	if _, err := src.WriteToUDP([]byte("hello"), dst.LocalAddr().(*net.UDPAddr)); err != nil {
		t.Fatal(err)
	}
	data, _, err := r.NextPacket()
	if err != nil {
		t.Fatal(err)
	}
	// The reader holds the block while its packets are walked.
	ne := binary.NativeEndian
	rd := &r.mu.rd
	blk := rd.block(rd.cur)
	if v, first := ne.Uint32(blk[tpbVersion:]), ne.Uint32(blk[tpbFirstPkt:]); v != tpVersion3 || first != tpBlockDescLen {
		t.Errorf("block version %d offset_to_first_pkt %d, want %d, %d", v, first, tpVersion3, tpBlockDescLen)
	}
	if s := blockStatus(blk).Load(); s&tpStatusUser == 0 {
		t.Errorf("held block status %#x lacks TP_STATUS_USER", s)
	}
	h := blk[tpBlockDescLen:]
	if mac, net := ne.Uint16(h[tphMac:]), ne.Uint16(h[tphNet:]); mac != 82 || net != 96 {
		t.Errorf("tp_mac %d tp_net %d, want 82, 96", mac, net)
	}
	if fam, hatype := ne.Uint16(h[tphSllFamily:]), ne.Uint16(h[tphSllHatype:]); fam != unix.AF_PACKET || hatype != unix.ARPHRD_ETHER {
		t.Errorf("sll_family %d sll_hatype %d", fam, hatype)
	}
	if proto := binary.BigEndian.Uint16(h[tphSllProtocol:]); proto != bpfEtherIPv4 {
		t.Errorf("sll_protocol %#x", proto)
	}
	if unsafe.SliceData(data) != &h[82] {
		t.Error("data does not start at tp_mac")
	}
}

// TestRingLiveRawFrames writes hand-built frames on vb and compares what
// va's ring delivers with a MockRing fed the same frames with the kernel's
// VLAN offload and filter modelled: same bytes, lengths and flags.
func TestRingLiveRawFrames(t *testing.T) {
	netnstest.Require(t)
	n := newVethNet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ra := openRingIn(t, ctx, n.a, "va", liveOpts)
	ca := collect(ra)
	sender := rawSenderIn(t, n.b, "vb")
	tcp := tfTCP(40000, 443, 200)
	v4 := tfIPv4(protoTCP, 0, tcp)
	v6 := tfIPv6(protoTCP, []tfExt{{bpfIPv6HopByHop, 8}, {bpfIPv6Fragment, 8}}, tcp)
	frames := [][]byte{
		tfEth(0x0806, tfARP()),                                     // filtered
		tfEth(bpfEtherIPv4, v4, bpfEtherVLAN),                      // tag offloaded
		tfEth(0x0806, tfARP(), bpfEtherVLAN),                       // filtered after offload
		tfEth(bpfEtherIPv4, v4, bpfEtherQinQ, bpfEtherVLAN),        // outer offloaded, inner walked
		tfEth(bpfEtherPPPoE, tfPPPoE(bpfPPPIPv4, v4)),              // PPPoE session
		tfEth(bpfEtherIPv6, v6),                                    // extension headers
		tfEth(bpfEtherMPLS, tfMPLS(2, v4)),                         // MPLS
		tfEth(0x88cc, make([]byte, 60)),                            // LLDP: filtered
		tfEth(bpfEtherIPv4, tfIPv4(protoUDP, 2, tfUDP(1, 2, 900))), // IPv4 options
	}
	mockFrames := make([]MockFrame, len(frames))
	for i, f := range frames {
		sender.send(t, f)
		mockFrames[i] = MockFrame{Data: f}
	}
	m, err := NewMockRing(mockFrames, MockOptions{Link: LinkEthernet, Filter: true, OffloadVLAN: true})
	if err != nil {
		t.Fatal(err)
	}
	wantData, wantInfo := mockReadAll(t, m)
	if len(wantInfo) != 6 {
		t.Fatalf("mock kept %d frames, want the 6 IP ones", len(wantInfo))
	}
	got := ca.take(t, len(wantInfo), nil, 5*time.Second, 300*time.Millisecond)
	// Packets may be reordered between CPUs: match them by their bytes.
	for i := range wantInfo {
		w := wantInfo[i]
		w.Timestamp = 0
		found := false
		for _, p := range got {
			if string(p.data) != string(wantData[i]) {
				continue
			}
			found = true
			g := p.info
			g.Timestamp = 0
			if g != w {
				t.Errorf("frame %d: live %+v, mock %+v", i, g, w)
			}
		}
		if !found {
			t.Errorf("frame %d (%x) not captured; got:", i, wantData[i])
			for _, p := range got {
				t.Logf("  %+v %x", p.info, p.data)
			}
		}
	}
	ca.stop(t, cancel)
}

// TestRingLiveICMP pings a from b: a's ring sees the echo requests inbound
// and its replies outbound.
func TestRingLiveICMP(t *testing.T) {
	netnstest.Require(t)
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("ping not found (apt-get install -y iputils-ping)")
	}
	n := newVethNet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ca := collect(openRingIn(t, ctx, n.a, "va", liveOpts))
	out, err := n.b.Command("ping", "-c", "3", "-i", "0.2", "-W", "2", "10.201.0.1").CombinedOutput()
	if err != nil {
		t.Fatalf("ping: %v: %s", err, out)
	}
	got := ca.take(t, 6, nil, 5*time.Second, 300*time.Millisecond)
	var requests, replies int
	for _, p := range got {
		d := p.data
		if p.info.CapLen != 48 || p.info.OrigLen != 98 || len(d) < 35 || d[23] != protoICMP {
			t.Fatalf("not a 98-byte ping cut to 48: %+v %x", p.info, d)
		}
		switch {
		case d[34] == 8 && p.info.Dir == DirInbound:
			requests++
		case d[34] == 0 && p.info.Dir == DirOutbound:
			replies++
		}
	}
	if requests != 3 || replies != 3 {
		t.Errorf("%d inbound echo requests and %d outbound replies, want 3 and 3", requests, replies)
	}
	ca.stop(t, cancel)
}

// TestRingLiveLoopback captures on lo, where the kernel shows each packet
// twice (sent, then received): the ring must deliver it once.
func TestRingLiveLoopback(t *testing.T) {
	netnstest.Require(t)
	ns := newTestNS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := collect(openRingIn(t, ctx, ns, "lo", liveOpts))
	dst := udpIn(t, ns, "127.0.0.1:9999")
	src := udpIn(t, ns, "127.0.0.1:0")
	for range 5 {
		if _, err := src.WriteToUDP(make([]byte, 300), dst.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
	}
	got := c.take(t, 5, isUDPTo(9999), 5*time.Second, 300*time.Millisecond)
	for _, p := range got {
		if p.info.OrigLen != 14+20+8+300 || p.info.CapLen != 48 || p.info.Link != LinkEthernet {
			t.Errorf("loopback packet %+v", p.info)
		}
	}
	c.stop(t, cancel)
}

// TestRingLiveRawIP captures on a tun device (ARPHRD_NONE): packets start
// with the IP header and are cut after it.
func TestRingLiveRawIP(t *testing.T) {
	netnstest.Require(t)
	ns := newTestNS(t)
	var tun int
	if err := ns.Do(func() (err error) {
		if tun, err = unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
			return err
		}
		ifr, err := unix.NewIfreq("fsqltun0")
		if err != nil {
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		return unix.IoctlIfreq(tun, unix.TUNSETIFF, ifr)
	}); err != nil {
		t.Skipf("no tun device: %v", err)
	}
	defer unix.Close(tun)
	netnstest.IP(t, "-n", ns.Name(), "link", "set", "fsqltun0", "up")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := openRingIn(t, ctx, ns, "fsqltun0", liveOpts)
	if l := r.Interfaces()[0].Link; l != LinkRaw {
		t.Fatalf("tun link type %d, want LinkRaw", l)
	}
	c := collect(r)
	v4 := tfIPv4(protoUDP, 1, tfUDP(1, 2, 500))
	v6 := tfIPv6(protoTCP, []tfExt{{bpfIPv6DestOpts, 16}}, tfTCP(1, 2, 500))
	for _, p := range [][]byte{v4, v6} {
		if _, err := unix.Write(tun, p); err != nil {
			t.Fatal(err)
		}
	}
	got := c.take(t, 2, nil, 5*time.Second, 300*time.Millisecond)
	if got[0].data[0]>>4 == 6 { // reordered between CPUs
		got[0], got[1] = got[1], got[0]
	}
	for i, want := range []struct {
		frame []byte
		cut   int
	}{{v4, 24 + 14}, {v6, 56 + 14}} {
		in := got[i].info
		if in.Link != LinkRaw || in.OrigLen != uint32(len(want.frame)) || int(in.CapLen) != want.cut ||
			!hasPrefix(got[i], want.frame) || in.Dir != DirInbound {
			t.Errorf("packet %d: %+v %x", i, in, got[i].data)
		}
	}
	c.stop(t, cancel)
}

// TestRingLiveFanout opens two rings in one fanout group: every packet
// reaches exactly one of them, and flows spread over both.
func TestRingLiveFanout(t *testing.T) {
	netnstest.Require(t)
	n := newVethNet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := liveOpts
	opts.Fanout, opts.FanoutGroup = true, 0x4242
	c1 := collect(openRingIn(t, ctx, n.a, "va", opts))
	c2 := collect(openRingIn(t, ctx, n.a, "va", opts))
	dst := udpIn(t, n.a, "10.201.0.1:9999")
	const flows = 32
	for range flows {
		src := udpIn(t, n.b, "10.201.0.2:0") // a new source port: a new flow
		for range 2 {
			if _, err := src.WriteToUDP([]byte("x"), dst.LocalAddr().(*net.UDPAddr)); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	got1 := c1.take(t, 0, isUDPTo(9999), time.Second, 200*time.Millisecond)
	got2 := c2.take(t, 0, isUDPTo(9999), time.Second, 200*time.Millisecond)
	if len(got1)+len(got2) != 2*flows || len(got1) == 0 || len(got2) == 0 {
		t.Errorf("rings got %d and %d packets, want %d in all, some on each", len(got1), len(got2), 2*flows)
	}
	c1.stop(t, cancel)
	c2.stop(t, func() {})
}

// TestRingLivePromiscuous checks that the interface is promiscuous while
// the ring is open, and no longer after Close.
func TestRingLivePromiscuous(t *testing.T) {
	netnstest.Require(t)
	n := newVethNet(t)
	promisc := func() bool {
		out, err := exec.Command("ip", "-n", n.a.Name(), "-d", "link", "show", "va").CombinedOutput()
		if err != nil {
			t.Fatalf("ip link show: %v: %s", err, out)
		}
		// Packet-socket membership raises the device's promiscuity count
		// (IFLA_PROMISCUITY), not the IFF_PROMISC flag users set.
		return !strings.Contains(string(out), "promiscuity 0 ")
	}
	if promisc() {
		t.Fatal("va promiscuous before the ring")
	}
	opts := liveOpts
	opts.Promiscuous = true
	r := openRingIn(t, context.Background(), n.a, "va", opts)
	if !promisc() {
		t.Error("va not promiscuous with the ring open")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if promisc() {
		t.Error("va still promiscuous after Close")
	}
}

// TestRingLiveDrops overruns a tiny ring that nobody reads: the kernel
// counts drops, Stats accumulates across readings, and the packets kept
// are exactly the ones not dropped.
func TestRingLiveDrops(t *testing.T) {
	netnstest.Require(t)
	n := newVethNet(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := openRingIn(t, ctx, n.a, "va", RingOptions{BlockSize: 4096, NumBlocks: 2, FrameSize: 256, RetireTimeout: 5 * time.Millisecond})
	dst := udpIn(t, n.a, "10.201.0.1:9999")
	src := udpIn(t, n.b, "10.201.0.2:0")
	const sent = 400
	for i := range sent {
		if _, err := src.WriteToUDP(make([]byte, i%50), dst.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
		if i == sent/2 {
			time.Sleep(50 * time.Millisecond)
			if st := r.Stats(); st.Packets == 0 || st.Drops == 0 {
				t.Errorf("half way: stats %+v, want packets and drops", st)
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	st := r.Stats() // adds to the half-way reading
	if st.Packets != sent || st.Drops == 0 || st.Drops >= sent || st.FreezeQueueCount == 0 {
		t.Errorf("stats %+v: want %d packets (drops included), some drops, a frozen queue", st, sent)
	}
	c := collect(r)
	kept := c.take(t, int(st.Packets-st.Drops), isUDPTo(9999), 5*time.Second, 300*time.Millisecond)
	t.Logf("sent %d, kept %d, %+v", sent, len(kept), st)
	c.stop(t, cancel)
}
