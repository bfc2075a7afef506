//go:build unix

package planner

import (
	"syscall"
	"time"
)

// processCPU returns the user and system CPU time of the process so far.
// Benchmarks report it per op: the machine is shared, and CPU time is a
// steadier measure than wall time when other processes compete.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
