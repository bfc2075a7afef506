//go:build linux

package capture

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// Wake-ups. A reader waiting for the next block sleeps in poll(2) on two
// descriptors: the packet socket, readable once the kernel has handed over
// a block (TPACKET_V3 reports POLLIN when the block before the one it is
// filling is the user's), and an eventfd that Close and the context
// watcher write to. The eventfd is never read back: a stopped ring stays
// stopped, so every later poll returns at once and the reader sees the
// state change.

// wake makes a reader blocked in wait return.
func (r *Ring) wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(r.efd, one[:]) // EAGAIN only if the counter is saturated: already awake
}

// wait blocks until the socket or the eventfd is readable, then returns so
// that the caller checks the ring state and the next block again. It
// returns the socket's pending error (ENETDOWN when the interface goes
// down), which reading SO_ERROR clears.
// REQUIRES: r.mu held.
func (r *Ring) wait() error {
	for {
		_, err := unix.Poll(r.mu.pfd[:], -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("capture: ring on %q: poll: %w", r.name, err)
		}
		sock := r.mu.pfd[0].Revents
		if sock&unix.POLLNVAL != 0 {
			return fmt.Errorf("capture: ring on %q: poll: socket not open: %w", r.name, unix.EBADF)
		}
		if sock&unix.POLLERR != 0 && r.mu.pfd[1].Revents == 0 {
			soErr, err := unix.GetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_ERROR)
			if err != nil {
				return fmt.Errorf("capture: ring on %q: reading the socket error: %w", r.name, err)
			}
			if soErr != 0 {
				return fmt.Errorf("capture: ring on %q: %w", r.name, unix.Errno(soErr))
			}
		}
		return nil
	}
}
