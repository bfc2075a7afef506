//go:build linux

package capture

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Ring states.
const (
	ringOpen    int32 = iota
	ringStopped       // the context is done: reads fail; Close still releases
	ringClosed
)

// Ring reads packets from an AF_PACKET socket with a TPACKET_V3 receive
// ring on one interface, through the kernel filter of the interface's link
// type (see KernelFilter). It implements Source.
//
// One goroutine reads (NextPacket / AppendPacket); calls are serialised, so
// a second reader is safe but only waits its turn. Close and Stats may be
// called from any goroutine.
//
// The data slice NextPacket returns points into the ring's mmap'ed memory
// and is valid until the next NextPacket, AppendPacket or Close. Close
// waits for a reader inside NextPacket to leave before it unmaps the ring,
// but it cannot know what the reader does with a slice between calls: as
// with bbolt's mmap'ed values, touching one after Close faults. So either
// stop the reader by cancelling the context given to OpenRing (its
// NextPacket returns ErrRingClosed) and let the reading goroutine call
// Close, or read with AppendPacket, whose copy is safe from a concurrent
// Close.
type Ring struct {
	name   string
	ifaces []Interface
	fd     int // AF_PACKET socket
	efd    int // eventfd that wakes a reader blocked in poll
	mem    []byte

	state   atomic.Int32 // ringOpen, ringStopped or ringClosed
	stopErr error        // written before state becomes ringStopped

	// mu is held by a reader for the whole of NextPacket, including while
	// it blocks in poll; Close takes it (after waking the reader) before
	// unmapping, so no reader is ever inside a block when it goes away.
	mu struct {
		sync.Mutex
		rd  ringReader     // REQUIRES: mu held
		pfd [2]unix.PollFd // socket, eventfd; REQUIRES: mu held
	}

	stats struct {
		sync.Mutex
		total  RingStats // accumulated PACKET_STATISTICS readings
		closed bool      // the socket is gone: total is final
	}

	done      chan struct{}  // closed by Close: stops the context watcher
	watcher   sync.WaitGroup // the context watcher goroutine
	closeOnce sync.Once
	closeErr  error
}

// OpenRing opens a capture ring on the interface named iface, in the
// network namespace of the calling thread. It needs CAP_NET_RAW. ctx
// bounds the ring's life: once ctx is done, NextPacket returns an error
// wrapping ErrRingClosed and the context's cause; the caller must still
// call Close. A zero RingOptions means the defaults.
func OpenRing(ctx context.Context, iface string, opts RingOptions) (*Ring, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("capture: opening a ring on %q: %w", iface, context.Cause(ctx))
	}
	o, err := opts.withDefaults(os.Getpagesize())
	if err != nil {
		return nil, err
	}
	s, err := openSocket(iface, o)
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Munmap(s.mem)
		_ = unix.Close(s.fd)
		return nil, fmt.Errorf("capture: opening a ring on %q: eventfd: %w", iface, err)
	}
	r := &Ring{
		name:   iface,
		ifaces: []Interface{{Name: iface, Link: s.link, TsResolution: 1e9}},
		fd:     s.fd,
		efd:    efd,
		mem:    s.mem,
		done:   make(chan struct{}),
	}
	if err := r.mu.rd.initRing(s.mem, uint32(o.BlockSize), o.NumBlocks, s.link); err != nil {
		_ = r.release()
		return nil, err
	}
	r.mu.rd.skipOutgoing = s.loopback && !s.ignored
	r.mu.pfd = [2]unix.PollFd{
		{Fd: int32(s.fd), Events: unix.POLLIN | unix.POLLERR},
		{Fd: int32(efd), Events: unix.POLLIN},
	}
	if ctx.Done() != nil {
		r.watcher.Add(1)
		go r.watch(ctx)
	}
	return r, nil
}

// watch stops the ring when ctx is done, until Close.
func (r *Ring) watch(ctx context.Context) {
	defer r.watcher.Done()
	select {
	case <-ctx.Done():
		r.stopErr = fmt.Errorf("%w: %w", ErrRingClosed, context.Cause(ctx))
		if r.state.CompareAndSwap(ringOpen, ringStopped) {
			r.wake()
		}
	case <-r.done:
	}
}

// NextPacket returns the next packet; see Source. It blocks until the
// kernel hands over a block, the context given to OpenRing is done, or
// Close is called (then it returns an error wrapping ErrRingClosed). The
// data slice points into the ring and is valid until the next call to
// NextPacket, AppendPacket or Close; reading a packet allocates nothing.
//
// A corrupt block yields an error wrapping ErrRingCorrupt and a socket
// error (ENETDOWN when the interface goes down) an error wrapping the
// errno; both are transient: calling again goes on reading.
func (r *Ring) NextPacket() ([]byte, PacketInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next()
}

// AppendPacket reads the next packet like NextPacket but appends its bytes
// to dst (the copy tier). The copy is made before Close can unmap the
// ring, so the returned slice, which belongs to the caller, stays valid
// whatever other goroutines do.
func (r *Ring) AppendPacket(dst []byte) ([]byte, PacketInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	data, info, err := r.next()
	if err != nil {
		return dst, info, err
	}
	return append(dst, data...), info, nil
}

// next is NextPacket.
// REQUIRES: r.mu held.
func (r *Ring) next() ([]byte, PacketInfo, error) {
	for {
		switch r.state.Load() {
		case ringOpen:
		case ringStopped:
			return nil, PacketInfo{}, r.stopErr
		default:
			return nil, PacketInfo{}, ErrRingClosed
		}
		data, info, ready, err := r.mu.rd.next()
		if ready {
			if err != nil {
				return nil, PacketInfo{}, fmt.Errorf("capture: ring on %q: %w", r.name, err)
			}
			return data, info, nil
		}
		if err := r.wait(); err != nil {
			return nil, PacketInfo{}, err
		}
	}
}

// Interfaces returns the ring's one interface. Its SnapLen is 0: there is
// no fixed snap length, the filter cuts each packet after its transport
// header. The slice is shared and must not be modified.
func (r *Ring) Interfaces() []Interface { return r.ifaces[:1:1] }

// Stats returns the kernel's counters accumulated since OpenRing. Each
// call reads (and so resets) the kernel's counters and adds them to the
// totals; after Close it returns the totals at Close.
func (r *Ring) Stats() RingStats {
	r.stats.Lock()
	defer r.stats.Unlock()
	r.collectStats()
	return r.stats.total
}

// collectStats adds the kernel's counters to the totals.
// REQUIRES: r.stats held.
func (r *Ring) collectStats() {
	if r.stats.closed {
		return
	}
	st, err := readStats(r.fd)
	if err != nil {
		return // only EBADF-like failures; the totals stay valid
	}
	r.stats.total.Packets += st.Packets
	r.stats.total.Drops += st.Drops
	r.stats.total.FreezeQueueCount += st.FreezeQueueCount
}

// Close stops the ring and releases it: it wakes a reader blocked in
// NextPacket, waits for that reader to leave, and only then unmaps the
// ring and closes the socket. Later reads return ErrRingClosed. Close is
// idempotent and safe to call from any goroutine.
func (r *Ring) Close() error {
	r.closeOnce.Do(func() {
		r.state.Store(ringClosed)
		r.wake()
		close(r.done)
		r.watcher.Wait()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.stats.Lock()
		r.collectStats()
		r.stats.closed = true
		r.stats.Unlock()
		if err := r.release(); err != nil {
			r.closeErr = fmt.Errorf("capture: closing the ring on %q: %w", r.name, err)
		}
	})
	return r.closeErr
}

// release unmaps the ring and closes the descriptors.
// REQUIRES: no reader inside NextPacket (r.mu held, or not yet shared).
func (r *Ring) release() error {
	r.mu.rd = ringReader{}
	var errs []error
	if r.mem != nil {
		errs = append(errs, unix.Munmap(r.mem))
		r.mem = nil
	}
	errs = append(errs, unix.Close(r.fd), unix.Close(r.efd))
	r.fd, r.efd = -1, -1
	return errors.Join(errs...)
}
