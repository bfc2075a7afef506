package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	pb "github.com/flowsql/flowsql/internal/pktbuild"
)

// testRing is a PacketRing for the live-capture tests. Frames pushed into
// it are laid out in a capture.MockRing (with the kernel filter and VLAN
// offload, so the real block walker reads them) and counted as accepted
// by the "kernel" at once, as a live ring counts packets on arrival; when
// none is left NextPacket blocks, as a Ring blocks in poll, until more
// are pushed or its context is done.
type testRing struct {
	ctx  context.Context
	wake chan struct{}

	mu struct {
		sync.Mutex
		queue []*capture.MockRing
		errs  []error // returned by NextPacket before the next frames
	}
	cur *capture.MockRing // the reader's

	hold     chan struct{} // when non-nil, NextPacket waits on it before each packet
	accepted atomic.Uint64
	drops    atomic.Uint64
	waits    atomic.Uint64 // times NextPacket blocked for lack of packets
	stats    atomic.Uint64 // Stats calls
	closed   atomic.Bool
}

func newTestRing(ctx context.Context) *testRing {
	return &testRing{ctx: ctx, wake: make(chan struct{}, 1)}
}

// push makes frames available to the reader.
func (r *testRing) push(t testing.TB, frames ...capture.MockFrame) {
	t.Helper()
	m, err := capture.NewMockRing(frames, capture.MockOptions{Link: capture.LinkEthernet, Filter: true, OffloadVLAN: true})
	if err != nil {
		t.Fatalf("mock ring: %v", err)
	}
	r.accepted.Add(uint64(m.Len()))
	r.mu.Lock()
	r.mu.queue = append(r.mu.queue, m)
	r.mu.Unlock()
	r.signal()
}

// fail makes NextPacket return err once, after the frames pushed so far.
func (r *testRing) fail(err error) {
	r.mu.Lock()
	r.mu.queue = append(r.mu.queue, nil)
	r.mu.errs = append(r.mu.errs, err)
	r.mu.Unlock()
	r.signal()
}

func (r *testRing) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *testRing) NextPacket() ([]byte, capture.PacketInfo, error) {
	for {
		if r.ctx.Err() != nil || r.closed.Load() {
			return nil, capture.PacketInfo{}, fmt.Errorf("%w: %w", capture.ErrRingClosed, context.Cause(r.ctx))
		}
		if r.cur != nil {
			if r.hold != nil {
				select {
				case <-r.hold:
				case <-r.ctx.Done():
					continue
				}
			}
			data, info, err := r.cur.NextPacket()
			if err == nil {
				return data, info, nil
			}
			if !errors.Is(err, io.EOF) {
				return nil, info, err
			}
			r.cur = nil
		}
		r.mu.Lock()
		if len(r.mu.queue) > 0 {
			next := r.mu.queue[0]
			r.mu.queue = r.mu.queue[1:]
			var err error
			if next == nil {
				err, r.mu.errs = r.mu.errs[0], r.mu.errs[1:]
			}
			r.mu.Unlock()
			if err != nil {
				return nil, capture.PacketInfo{}, err
			}
			r.cur = next
			continue
		}
		r.mu.Unlock()
		r.waits.Add(1)
		select {
		case <-r.wake:
		case <-r.ctx.Done():
		}
	}
}

func (r *testRing) Stats() capture.RingStats {
	r.stats.Add(1)
	d := r.drops.Load()
	return capture.RingStats{Packets: r.accepted.Load() + d, Drops: d}
}

func (r *testRing) Close() error {
	r.closed.Store(true)
	return nil
}

// ringSet opens testRings and remembers them, in opening order.
type ringSet struct {
	mu    sync.Mutex
	rings []*testRing
	fail  error
}

func (s *ringSet) open(ctx context.Context, iface string, _ capture.RingOptions) (PacketRing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	r := newTestRing(ctx)
	s.rings = append(s.rings, r)
	return r, nil
}

func (s *ringSet) get(i int) *testRing {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rings[i]
}

// memSink keeps copies of the blocks written, optionally failing.
type memSink struct {
	mu     sync.Mutex
	blocks []*columnar.Block
	failN  int // fail this many writes first
	err    error
}

func (s *memSink) Write(_ context.Context, b *columnar.Block) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN > 0 {
		s.failN--
		return s.err
	}
	c := *b
	c.SIP, c.DIP = slices.Clone(b.SIP), slices.Clone(b.DIP)
	c.DPort, c.Proto = slices.Clone(b.DPort), slices.Clone(b.Proto)
	c.BytesIn, c.BytesOut = slices.Clone(b.BytesIn), slices.Clone(b.BytesOut)
	c.PacketsIn, c.PacketsOut = slices.Clone(b.PacketsIn), slices.Clone(b.PacketsOut)
	s.blocks = append(s.blocks, &c)
	return nil
}

func (s *memSink) written() []*columnar.Block {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.blocks)
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Test traffic. Addresses: hostA is the capturing host.
var (
	hostA   = netip.MustParseAddr("10.0.0.1")
	hostB   = netip.MustParseAddr("10.0.0.2")
	hostC   = netip.MustParseAddr("192.0.2.7")
	hostA6  = netip.MustParseAddr("2001:db8::1")
	hostB6  = netip.MustParseAddr("2001:db8::2")
	baseSec = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC).Unix()
)

// liveFrames returns a varied conversation mix at second sec (+ms per
// frame): a TCP connection from B to A:443 (handshake, data both ways,
// teardown), DNS from A to C, ICMP echo B->A, IPv6 UDP, a VLAN-tagged
// datagram, an ARP frame and a runt.
func liveFrames(t testing.TB, sec int64, sport uint16) []capture.MockFrame {
	t.Helper()
	var out []capture.MockFrame
	add := func(dir capture.Direction, layers ...pb.Layer) {
		frame, err := pb.Build(layers...)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, capture.MockFrame{Data: frame, Timestamp: sec*1e9 + int64(len(out))*1e6, Dir: dir})
	}
	in, outb := capture.DirInbound, capture.DirOutbound
	tcp := func(dir capture.Direction, fromB bool, flags uint8, n int) {
		if fromB {
			add(dir, pb.Ethernet{}, pb.IPv4{Src: hostB, Dst: hostA}, pb.TCP{SrcPort: sport, DstPort: 443, Flags: flags}, pb.Payload(make([]byte, n)))
		} else {
			add(dir, pb.Ethernet{}, pb.IPv4{Src: hostA, Dst: hostB}, pb.TCP{SrcPort: 443, DstPort: sport, Flags: flags}, pb.Payload(make([]byte, n)))
		}
	}
	tcp(in, true, pb.SYN, 0)
	tcp(outb, false, pb.SYN|pb.ACK, 0)
	tcp(in, true, pb.ACK, 0)
	tcp(in, true, pb.ACK|pb.PSH, 300)
	tcp(outb, false, pb.ACK|pb.PSH, 1400)
	tcp(in, true, pb.FIN|pb.ACK, 0)
	tcp(outb, false, pb.FIN|pb.ACK, 0)
	tcp(in, true, pb.ACK, 0)
	add(outb, pb.Ethernet{}, pb.IPv4{Src: hostA, Dst: hostC}, pb.UDP{SrcPort: 40000 + sport%1000, DstPort: 53}, pb.Payload(make([]byte, 40)))
	add(in, pb.Ethernet{}, pb.IPv4{Src: hostC, Dst: hostA}, pb.UDP{SrcPort: 53, DstPort: 40000 + sport%1000}, pb.Payload(make([]byte, 120)))
	add(in, pb.Ethernet{}, pb.IPv4{Src: hostB, Dst: hostA}, pb.ICMP{Type: 8, ID: 1, Seq: 1}, pb.Payload(make([]byte, 56)))
	add(outb, pb.Ethernet{}, pb.IPv4{Src: hostA, Dst: hostB}, pb.ICMP{Type: 0, ID: 1, Seq: 1}, pb.Payload(make([]byte, 56)))
	add(in, pb.Ethernet{}, pb.IPv6{Src: hostB6, Dst: hostA6}, pb.UDP{SrcPort: 50000, DstPort: 5353}, pb.Payload(make([]byte, 33)))
	add(in, pb.Ethernet{}, pb.VLAN{ID: 100}, pb.IPv4{Src: hostB, Dst: hostA}, pb.UDP{SrcPort: 41000, DstPort: 9999}, pb.Payload(make([]byte, 10)))
	add(in, pb.Ethernet{}, pb.ARP{})
	add(in, pb.Ethernet{Type: pb.EtherTypeIPv4}, pb.Payload([]byte{0x45, 0}))
	return out
}
