//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package columnar

import (
	"fmt"
	"os"
	"runtime"
)

// tryLockFile fails: without an advisory lock two writers could both append,
// so read-write opens are refused on this platform.
func tryLockFile(*os.File) (bool, error) {
	return false, fmt.Errorf("columnar: writer lock not supported on %s", runtime.GOOS)
}
