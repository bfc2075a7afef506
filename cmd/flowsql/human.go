package main

import (
	"time"
)

// timeUTC formats a Unix time in seconds as the minute it names, in UTC.
func timeUTC(sec int64) string {
	return time.Unix(sec, 0).UTC().Format("2006-01-02 15:04")
}
