package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// queryStartHeap is the heap a one-shot query may grow to before its
// first garbage collection.
const queryStartHeap = 128 << 20

// isQueryRun reports whether a command line runs one query and exits:
// `query`, `export` or the shorthand `flowsql "SELECT ..."`, after any
// global flags.
func isQueryRun(args []string) bool {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--db":
			i++ // its value
		case strings.HasPrefix(a, "-"):
		default:
			return a == "query" || a == "export" || isQueryText(a)
		}
	}
	return false
}

// startQueryHeap lets a one-shot query run without garbage collections
// until its heap reaches startHeap, then hands over to the usual pacer
// (GOGC=100) from the first collection on. The runtime starts with a
// 4 MB heap goal, so a query that reads a few tens of MB of chunks would
// otherwise collect a dozen times while its heap grows: about 10 % of the
// time of the reference queries Q2 and Q3 (bench/read.sh). Queries with
// a large heap (millions of groups) collect as before once past
// startHeap, so their peak memory does not change. The Go compiler starts
// its heap the same way. GOGC or GOMEMLIMIT set in the environment win.
func startQueryHeap(startHeap int64) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := debug.SetMemoryLimit(startHeap)
	percent := debug.SetGCPercent(-1)
	// A finalizer runs after the first collection that finds its object
	// unreachable: the first collection of the process from here on.
	runtime.SetFinalizer(new([16]byte), func(*[16]byte) {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}
