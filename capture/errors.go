package capture

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by file sources wrap one of them inside a
// *FileError, so callers test the class with errors.Is and the position
// with errors.As.
var (
	// ErrCorrupt means the bytes cannot be a valid capture: an impossible
	// length, a block trailer that does not match its header, an option that
	// overruns its block, an interface id that was never described.
	ErrCorrupt = errors.New("capture: corrupt file")
	// ErrTruncated means the input ended inside a file header, a record
	// header or a record body.
	ErrTruncated = errors.New("capture: file cut short")
	// ErrUnsupported means the input is well formed as far as it was read
	// but uses a format or version this package does not read (not
	// pcap/pcapng/gzip, pcap major version other than 2, pcapng other than
	// 1.x, a timestamp resolution finer than uint64 units per second).
	ErrUnsupported = errors.New("capture: unsupported file format")
	// ErrClosed is returned by a source's methods after Close.
	ErrClosed = errors.New("capture: source closed")
)

// FileError is the error a file source returns for a damaged or unreadable
// capture file. It names the file and where the damage starts.
type FileError struct {
	// Path is the file name given to Open or OpenFile.
	Path string
	// Record is the 1-based number of the record that could not be read:
	// for pcap the packet record (0 for the 24-byte file header), for pcapng
	// the block, counting every block from the first Section Header Block
	// (which is block 1; 0 means the input ended before any block).
	Record int64
	// Offset is the byte offset, in the decompressed stream, at which the
	// bad record starts.
	Offset int64
	// Err is the cause; it wraps ErrCorrupt, ErrTruncated or ErrUnsupported
	// for format problems and is the reader's own error for I/O failures.
	Err error
}

// Error names the file, the record and its offset, then the cause.
func (e *FileError) Error() string {
	return fmt.Sprintf("%s: record %d at offset %d: %v", e.Path, e.Record, e.Offset, e.Err)
}

// Unwrap returns the cause, so errors.Is(err, ErrCorrupt) works.
func (e *FileError) Unwrap() error { return e.Err }
