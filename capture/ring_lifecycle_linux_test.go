//go:build linux

package capture

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/flowsql/flowsql/internal/netnstest"
)

// Ring life-cycle tests: closing and cancelling under load, open errors,
// and allocation per packet on a live ring.

// TestRingCloseWhileBlocked closes rings whose reader waits in poll, many
// times: the reader returns ErrRingClosed and no goroutine outlives it.
func TestRingCloseWhileBlocked(t *testing.T) {
	netnstest.Require(t)
	defer goleak.VerifyNone(t)
	ns := newTestNS(t)
	for i := range 30 {
		r := openRingIn(t, context.Background(), ns, "lo", liveOpts)
		done := make(chan error, 1)
		go func() {
			_, _, err := r.NextPacket()
			done <- err
		}()
		time.Sleep(time.Duration(i%5) * time.Millisecond)
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, ErrRingClosed) {
				t.Fatalf("round %d: blocked reader got %v, want ErrRingClosed", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: reader still blocked after Close", i)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
}

// TestRingCloseWhileBusy closes rings while traffic flows and readers
// keep reading (by info, and by the copy tier), many times; cancels the
// context of others while they read.
func TestRingCloseWhileBusy(t *testing.T) {
	netnstest.Require(t)
	defer goleak.VerifyNone(t)
	n := newVethNet(t)
	dst := udpIn(t, n.a, "10.201.0.1:9999")
	src := udpIn(t, n.b, "10.201.0.2:0")
	stopFlood := make(chan struct{})
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		buf := make([]byte, 64)
		for {
			select {
			case <-stopFlood:
				return
			default:
				_, _ = src.WriteToUDP(buf, dst.LocalAddr().(*net.UDPAddr))
			}
		}
	}()
	defer func() { close(stopFlood); <-flooded }()
	total := 0
	defer func() { t.Logf("read %d packets in all", total) }()
	for i := range 30 {
		ctx, cancel := context.WithCancel(context.Background())
		r := openRingIn(t, ctx, n.a, "va", liveOpts)
		done := make(chan error, 1)
		var packets int
		go func() {
			var buf []byte
			for {
				var err error
				if i%2 == 0 {
					_, _, err = r.NextPacket()
				} else {
					buf, _, err = r.AppendPacket(buf[:0])
				}
				if err != nil {
					done <- err
					return
				}
				packets++
			}
		}()
		time.Sleep(time.Duration(2+3*(i%10)) * time.Millisecond)
		if i%3 == 0 {
			cancel()
		} else if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, ErrRingClosed) {
				t.Fatalf("round %d: reader got %v, want ErrRingClosed", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: reader did not stop", i)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		cancel()
		total += packets
	}
}

func TestOpenRingErrors(t *testing.T) {
	ctx := context.Background()
	for _, o := range []RingOptions{
		{BlockSize: 1000}, {NumBlocks: -1}, {FrameSize: 100}, {FrameSize: 3 << 10}, {RetireTimeout: time.Microsecond},
	} {
		if _, err := OpenRing(ctx, "lo", o); !errors.Is(err, ErrRingOptions) {
			t.Errorf("%+v: %v, want ErrRingOptions", o, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := OpenRing(cancelled, "lo", RingOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	netnstest.Require(t)
	ns := newTestNS(t)
	err := ns.Do(func() error {
		_, err := OpenRing(ctx, "fsql-no-such-if", RingOptions{})
		return err
	})
	if !errors.Is(err, unix.ENODEV) {
		t.Errorf("missing interface: %v, want ENODEV", err)
	}
}

func TestLinkForHWType(t *testing.T) {
	for hw, want := range map[uint16]LinkType{
		unix.ARPHRD_ETHER: LinkEthernet, unix.ARPHRD_LOOPBACK: LinkEthernet,
		unix.ARPHRD_NONE: LinkRaw, unix.ARPHRD_RAWIP: LinkRaw, unix.ARPHRD_TUNNEL6: LinkRaw,
	} {
		if got, _, err := linkForHWType(hw); err != nil || got != want {
			t.Errorf("hardware type %d: %d, %v; want %d", hw, got, err, want)
		}
	}
	if _, _, err := linkForHWType(unix.ARPHRD_IEEE80211_RADIOTAP); !errors.Is(err, ErrUnsupportedLink) {
		t.Errorf("radiotap: %v, want ErrUnsupportedLink", err)
	}
}

// TestRingLiveNoAllocs reads packets already in a live ring: no
// allocation per packet.
func TestRingLiveNoAllocs(t *testing.T) {
	netnstest.Require(t)
	n := newVethNet(t)
	opts := liveOpts
	opts.NumBlocks = 8
	r := openRingIn(t, context.Background(), n.a, "va", opts)
	dst := udpIn(t, n.a, "10.201.0.1:9999")
	src := udpIn(t, n.b, "10.201.0.2:0")
	const sent = 1200
	for range sent {
		if _, err := src.WriteToUDP(make([]byte, 10), dst.LocalAddr().(*net.UDPAddr)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // every block retired
	if st := r.Stats(); st.Packets != sent || st.Drops != 0 {
		t.Fatalf("stats %+v, want %d packets and no drops", st, sent)
	}
	var bytes uint32
	allocs := testing.AllocsPerRun(1000, func() {
		data, info, err := r.NextPacket()
		if err != nil {
			t.Fatal(err)
		}
		bytes += uint32(len(data)) + info.CapLen
	})
	if allocs != 0 {
		t.Errorf("Ring.NextPacket allocates %.2f times per packet, want 0", allocs)
	}
}
