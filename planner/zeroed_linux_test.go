//go:build !race

// The race detector maps shadow memory as the test reads, which takes
// page faults of its own.

package planner

import (
	"syscall"
	"testing"
)

// TestZeroedWritten: zeroed hands out memory already written, so reading
// it afterwards takes no page faults (fresh memory from make takes one per
// page on the first read, and another on the first write after it).
func TestZeroedWritten(t *testing.T) {
	const n = 64 << 20 / 8 // 64 MiB: fresh spans from the kernel
	s := zeroed[uint64](n)
	var before, after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &before); err != nil {
		t.Skipf("getrusage: %v", err)
	}
	var sum uint64
	for i := 0; i < n; i += 512 { // one read per 4 KiB page
		sum += s[i]
	}
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil {
		t.Skipf("getrusage: %v", err)
	}
	if sum != 0 {
		t.Fatalf("zeroed memory sums to %d", sum)
	}
	pages := n * 8 / 4096
	if faults := after.Minflt - before.Minflt; faults > int64(pages/8) {
		t.Errorf("reading %d zeroed pages took %d page faults: the memory was not written", pages, faults)
	}
}
