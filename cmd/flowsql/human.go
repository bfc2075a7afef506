package main

import (
	"fmt"
	"time"
)

// humanBytes formats a byte count with binary units: 1.5 KiB, 3.2 GiB.
func humanBytes(n uint64) string {
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

// humanCount formats a count with SI units: 950, 12.3k, 4.5M.
func humanCount(n uint64) string {
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

// timeUTC formats a Unix time in seconds as the minute it names, in UTC.
func timeUTC(sec int64) string {
	return time.Unix(sec, 0).UTC().Format("2006-01-02 15:04")
}
