package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// fileFormat is the container format of a FileSource.
type fileFormat uint8

const (
	formatPcap fileFormat = iota + 1
	formatPcapng
)

// Bounds on captured lengths (see the package doc).
const (
	// capLenFloor is the limit on a record's captured length when the snap
	// length is smaller: the maximum tshark accepts for ordinary link types.
	capLenFloor = 256 << 10
	// capLenHard is the limit on a record's captured length, whatever the
	// snap length says.
	capLenHard = 16 << 20
)

// gzipMagic are the first two bytes of a gzip stream.
const gzipMagic0, gzipMagic1 = 0x1f, 0x8b

// FileSource reads packets from a pcap or pcapng file, optionally gzipped.
// It implements Source. It is not safe for concurrent use.
//
// The data slice returned by NextPacket points into the source's read buffer
// (or, for records bigger than that buffer, into a buffer the source owns)
// and is valid only until the next call to NextPacket, AppendPacket or
// Close. After warm-up, reading a packet allocates nothing (for gzip input
// the decompressor still allocates a little per deflate block, about one
// allocation per hundred packets; see TestGzipAllocs).
type FileSource struct {
	name string
	file *os.File // opened by OpenFile, closed by Close
	gz   io.Closer
	br   *bufio.Reader
	big  []byte // owned buffer for records larger than br's buffer

	format fileFormat
	be     bool  // byte order of the current section is big-endian
	rec    int64 // number of the record being read, 1-based
	off    int64 // stream offset of the next record
	err    error // sticky: io.EOF, ErrClosed or the *FileError returned

	ifaces []Interface
	conv   []ifaceConv // parallel to ifaces

	swap    lengthSwap // pcap only
	secBase int        // pcapng: index in ifaces of the section's interface 0
}

// ifaceConv holds what the reader needs per interface on the hot path.
type ifaceConv struct {
	maxCap uint32 // limit on captured length
	// Timestamps: ns = units*tsMul + tsOff when the resolution divides 1e9,
	// else computed by division by tsDiv (units per second).
	tsMul int64
	tsDiv uint64
	tsOff int64 // if_tsoffset in nanoseconds
}

func newIfaceConv(snap uint32, unitsPerSec uint64, offNs int64) ifaceConv {
	c := ifaceConv{maxCap: capLimit(snap), tsOff: offNs}
	if unitsPerSec == 0 {
		unitsPerSec = 1e6 // never produced by the parsers; avoids a zero divisor
	}
	if 1e9%unitsPerSec == 0 {
		c.tsMul = int64(1e9 / unitsPerSec)
	} else {
		c.tsDiv = unitsPerSec
	}
	return c
}

// capLimit returns the largest captured length accepted under snap length
// snap: max(snap, 256 KiB), at most 16 MiB.
func capLimit(snap uint32) uint32 {
	return min(max(snap, capLenFloor), capLenHard)
}

// Open reads a capture from r. name is used in errors (usually the file
// path). It detects gzip, then pcap or pcapng, and reads the file header; a
// header that cannot be read is returned as a *FileError at record 0 (pcap)
// or 1 (pcapng). Close releases the source's buffers but does not close r.
func Open(r io.Reader, name string, opts ...FileOption) (*FileSource, error) {
	cfg := newFileConfig(opts)
	s := &FileSource{name: name}
	s.br = bufio.NewReaderSize(r, cfg.bufSize)
	m, err := s.br.Peek(2)
	if len(m) == 2 && m[0] == gzipMagic0 && m[1] == gzipMagic1 {
		gz, err := newGzipReader(s.br)
		if err != nil {
			return nil, s.ioFail(err, "gzip header", 0, 0)
		}
		s.gz = gz
		s.br = bufio.NewReaderSize(gz, cfg.bufSize)
	} else if err != nil && err != io.EOF {
		return nil, s.ioFail(err, "file header", len(m), 2)
	}
	if err := s.readFileHeader(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// OpenFile opens the capture file at path; see Open. Close closes the file.
func OpenFile(path string, opts ...FileOption) (*FileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	s, err := Open(f, path, opts...)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	s.file = f
	return s, nil
}

// readFileHeader detects pcap or pcapng and reads its header.
func (s *FileSource) readFileHeader() error {
	m, err := s.br.Peek(4)
	if len(m) < 4 {
		return s.ioFail(eofIfNil(err), "file magic", len(m), 4)
	}
	if binary.LittleEndian.Uint32(m) == ngBlockSHB {
		s.format = formatPcapng
		s.rec = 1
		return s.readSHB()
	}
	s.format = formatPcap
	return s.readPcapHeader()
}

// NextPacket returns the next packet; see Source. The data slice is valid
// until the next call to NextPacket, AppendPacket or Close. At the end of
// the file it returns io.EOF; after an error it keeps returning it.
func (s *FileSource) NextPacket() ([]byte, PacketInfo, error) {
	if s.err != nil {
		return nil, PacketInfo{}, s.err
	}
	if s.format == formatPcap {
		return s.nextPcap()
	}
	return s.nextPcapng()
}

// AppendPacket reads the next packet like NextPacket but appends its bytes
// to dst and returns the extended slice, which the caller owns.
func (s *FileSource) AppendPacket(dst []byte) ([]byte, PacketInfo, error) {
	data, info, err := s.NextPacket()
	if err != nil {
		return dst, info, err
	}
	return append(dst, data...), info, nil
}

// Interfaces lists the interfaces read so far: one for pcap, one per
// Interface Description Block for pcapng. The returned slice is shared with
// the source and must not be modified; appending to it is safe.
func (s *FileSource) Interfaces() []Interface {
	return s.ifaces[:len(s.ifaces):len(s.ifaces)]
}

// Close releases the source and closes the file opened by OpenFile. Later
// calls to NextPacket return ErrClosed. Close is idempotent.
func (s *FileSource) Close() error {
	if s.err == ErrClosed {
		return nil
	}
	s.err = ErrClosed
	s.br, s.big = nil, nil
	var errs []error
	if s.gz != nil {
		errs = append(errs, s.gz.Close())
		s.gz = nil
	}
	if s.file != nil {
		errs = append(errs, s.file.Close())
		s.file = nil
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("capture: closing %s: %w", s.name, err)
	}
	return nil
}

// readRecord consumes the next n bytes (n > 0, bounded by the caller) and
// returns them. When n fits in the read buffer the result aliases it; else
// it is read into s.big. On error it returns the bytes that were available.
func (s *FileSource) readRecord(n int) ([]byte, error) {
	if n <= s.br.Size() {
		b, err := s.br.Peek(n)
		if err != nil {
			return b, eofIfNil(err)
		}
		_, _ = s.br.Discard(n) // cannot fail: n bytes are buffered
		return b, nil
	}
	// Grow the owned buffer as the bytes arrive, so a length field that
	// claims more than the input holds costs no more memory than the input.
	b := s.big[:0]
	for len(b) < n {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(n, max(2*cap(b), 1<<20)))
			copy(nb, b)
			b = nb
		}
		k, err := io.ReadFull(s.br, b[len(b):min(n, cap(b))])
		b = b[:len(b)+k]
		if err != nil {
			s.big = b[:0]
			return b, err
		}
	}
	s.big = b[:0]
	return b, nil
}

// atEOF reports whether the input ends exactly here: Peek returned no bytes
// and io.EOF.
func atEOF(got []byte, err error) bool {
	return len(got) == 0 && err == io.EOF
}

// eofIfNil turns a nil error into io.EOF, for short reads that report none.
func eofIfNil(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}

// fail records err as the sticky error, wrapped in a *FileError for the
// current record and offset, and returns it.
func (s *FileSource) fail(err error) error {
	fe := &FileError{Path: s.name, Record: s.rec, Offset: s.off, Err: err}
	s.err = fe
	return fe
}

// corruptf fails with an error wrapping ErrCorrupt.
func (s *FileSource) corruptf(format string, args ...any) error {
	return s.fail(fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...)))
}

// unsupportedf fails with an error wrapping ErrUnsupported.
func (s *FileSource) unsupportedf(format string, args ...any) error {
	return s.fail(fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...)))
}

// ioFail classifies a read error: end of input inside a structure is
// ErrTruncated, a damaged gzip stream is ErrCorrupt, anything else is an I/O
// error passed through. got and want (when want > 0) say how much of the
// structure named what was read.
func (s *FileSource) ioFail(err error, what string, got, want int) error {
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		if want > 0 {
			return s.fail(fmt.Errorf("%w: %s: got %d of %d bytes", ErrTruncated, what, got, want))
		}
		return s.fail(fmt.Errorf("%w: %s", ErrTruncated, what))
	case isGzipCorrupt(err):
		return s.fail(fmt.Errorf("%w: %s: gzip: %w", ErrCorrupt, what, err))
	default:
		return s.fail(fmt.Errorf("reading %s: %w", what, err))
	}
}

// u16 and u32 decode in the byte order of the current file or section.
func (s *FileSource) u16(b []byte) uint16 {
	if s.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (s *FileSource) u32(b []byte) uint32 {
	if s.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (s *FileSource) u64(b []byte) uint64 {
	if s.be {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}
