package columnar

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers compare with errors.Is; the store wraps them with
// the file, offset, interface or block they concern.
var (
	// ErrCorrupt reports stored bytes that fail a check: bad magic, unknown
	// version, checksum mismatch, impossible size, undecodable Arrow data or
	// metadata that disagrees with the data. Every *CorruptError unwraps to it.
	ErrCorrupt = errors.New("columnar: corrupt data")

	// ErrUnsupportedVersion reports a file, chunk or index written by a format
	// version this build cannot read. It comes wrapped in a *CorruptError when
	// it concerns a data file.
	ErrUnsupportedVersion = errors.New("columnar: unsupported format version")

	// ErrInvalidBlock reports a Block that cannot be written: mismatched column
	// lengths, End <= Start, a bad interface name, too many rows.
	ErrInvalidBlock = errors.New("columnar: invalid block")

	// ErrBlockExists reports a Write of a block whose (interface, start) is
	// already stored. Blocks are never merged or replaced.
	ErrBlockExists = errors.New("columnar: block exists")

	// ErrBlockOverlap reports a Write of a block whose time range overlaps a
	// stored block of the same interface.
	ErrBlockOverlap = errors.New("columnar: block overlaps a stored block")

	// ErrUnknownColumn reports a column id or name the store does not know.
	ErrUnknownColumn = errors.New("columnar: unknown column")

	// ErrClosed reports use of a DB after Close.
	ErrClosed = errors.New("columnar: database closed")

	// ErrReadOnly reports a write to a DB opened with Options.ReadOnly.
	ErrReadOnly = errors.New("columnar: database opened read-only")

	// ErrLocked reports a read-write Open of a folder whose writer lock
	// another DB holds, in this process or another. It comes as a
	// *LockedError naming the folder and the holder's pid.
	ErrLocked = errors.New("columnar: store is locked by another writer")

	// ErrNoStore reports a read-only Open of a folder that does not exist or
	// holds no flowsql store (no index.db).
	ErrNoStore = errors.New("columnar: no flowsql store")

	// ErrBlockRemoved reports a read of a block that retention dropped after
	// the caller listed it: not damage, the block is simply gone.
	ErrBlockRemoved = errors.New("columnar: block removed by retention")

	// ErrStage reports a block writer driven out of stage order: an internal
	// bug, never bad input.
	ErrStage = errors.New("columnar: block writer stage out of order")

	// ErrBadSize reports a size string ParseSize cannot read.
	ErrBadSize = errors.New("columnar: bad size")

	// ErrBadAge reports an age string ParseAge cannot read.
	ErrBadAge = errors.New("columnar: bad age")
)

// LockedError is the error of a read-write Open when another writer holds
// the folder's writer lock. It unwraps to ErrLocked.
type LockedError struct {
	Dir string // the database folder, as given to Open
	PID int    // process id recorded by the holder; 0 if unknown
}

// Error implements error.
func (e *LockedError) Error() string {
	holder := "another writer"
	if e.PID > 0 {
		holder = fmt.Sprintf("another writer (pid %d)", e.PID)
	}
	return fmt.Sprintf("columnar: store %q is locked by %s; only one process may write it at a time (readers may use ReadOnly)", e.Dir, holder)
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// noStoreError builds the ErrNoStore error of a read-only Open of dir; why
// says what is missing.
func noStoreError(dir, why string) error {
	return fmt.Errorf("%w in %q (%s; run flowsql ingest or flowsql probe first)", ErrNoStore, dir, why)
}

// CorruptError describes corrupt stored bytes: which file, at which byte
// offset, and what was wrong. It unwraps to ErrCorrupt and to Err when set, so
// errors.Is(err, ErrCorrupt) holds for every corruption the store reports.
type CorruptError struct {
	File   string // path of the damaged file, as opened
	Offset int64  // byte offset of the damaged record (chunk frame, header); -1 if unknown
	Reason string // what failed, with the got/want values
	Err    error  // underlying cause, such as ErrUnsupportedVersion or an Arrow error; may be nil
}

// Error implements error.
func (e *CorruptError) Error() string {
	msg := fmt.Sprintf("columnar: corrupt data in %s at offset %d: %s", e.File, e.Offset, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrCorrupt and the underlying cause.
func (e *CorruptError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrCorrupt}
	}
	return []error{ErrCorrupt, e.Err}
}

// corruptf builds a *CorruptError with a formatted reason.
func corruptf(file string, off int64, format string, args ...any) *CorruptError {
	return &CorruptError{File: file, Offset: off, Reason: fmt.Sprintf(format, args...)}
}
