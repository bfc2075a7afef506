// Package units formats byte counts and counts for people: 1.5 KiB,
// 3.2 GiB, 12.3k, 4.5M. The CLI's tables and the planner's error messages
// use it, so a number reads the same everywhere.
package units

import "fmt"

// Bytes formats a byte count with binary units: 512 B, 1.5 KiB, 3.2 GiB.
func Bytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Count formats a count with SI units: 950, 12.3k, 4.5M.
func Count(n uint64) string {
	if n < 1000 {
		return fmt.Sprintf("%d", n)
	}
	f, units := float64(n), "kMGTPE"
	i := -1
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.1f%c", f, units[i])
}
