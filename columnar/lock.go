package columnar

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// writerLock is a folder's writer lock (FORMAT.md "Writer and readers"):
// LockFileName held with an exclusive advisory lock (flock on Unix,
// LockFileEx on Windows) by a read-write DB from Open to Close. The kernel
// drops the lock when the file is closed or the process dies, even by
// SIGKILL, so a crashed writer never leaves the folder locked. Readers never
// touch it.
type writerLock struct {
	f *os.File
}

// acquireWriterLock takes dir's writer lock without waiting. If another DB
// holds it, in this process or another, it fails with a *LockedError.
func acquireWriterLock(dir string) (*writerLock, error) {
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("columnar: open %s: writer lock: %w", dir, err)
	}
	ok, err := tryLockFile(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("columnar: open %s: lock %s: %w", dir, path, err)
	}
	if !ok {
		pid := readLockPID(f)
		_ = f.Close()
		return nil, &LockedError{Dir: dir, PID: pid}
	}
	// The pid is only for the error message of the next would-be writer.
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("columnar: open %s: record pid in %s: %w", dir, path, err)
	}
	return &writerLock{f: f}, nil
}

// release drops the lock. The pid stays in the file; the next writer
// overwrites it.
func (l *writerLock) release() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("columnar: release writer lock: %w", err)
	}
	return nil
}

// readLockPID reads the pid a lock holder recorded, or 0.
func readLockPID(f *os.File) int {
	var buf [24]byte
	n, err := f.ReadAt(buf[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
