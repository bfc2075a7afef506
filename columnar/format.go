package columnar

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// DefaultPageColumns are the columns whose values a version 4 writer
// stores in pages unless Options.PageColumns says otherwise: the three
// largest values chunks of a block (dip codes about 2 B/row, the byte
// counters 2.1-2.3), which a query on one sip's rows reads for those
// rows. Paging every column measured worse: 0.31 B/row instead of 0.13,
// and a query reading whole columns pays a frame per page (the network
// query Q3, reading dport, proto and both packet counters whole, 68.6 ->
// 77.5 ms on one core, ZSTD's setup per frame the most of it).
var DefaultPageColumns = []ColumnID{ColDIP, ColBytesIn, ColBytesOut}

// On-disk format constants. FORMAT.md describes every structure they belong
// to; a change to any byte layout bumps FormatVersion and adds a fixture under
// testdata/format_vN.
const (
	// FormatVersion is the version of the data files, chunk frames and index
	// entries this build writes. Readers accept exactly the versions listed in
	// supportedVersion.
	FormatVersion = 4
	// minFormatVersion is the oldest version this build reads.
	minFormatVersion = 1

	// DefaultPageRows is the rows of a page of a column's values in a
	// version 4 block (Options.PageRows). On the bench/gen day (blocks of
	// about 20,000 rows, 3 pages) each page costs a frame (about 440
	// bytes); pages of 8192 rows cost 0.13 B/row for the three
	// DefaultPageColumns, pages of 4096 twice that.
	DefaultPageRows = 8192

	// fileMagic opens every data file.
	fileMagic = "FSQD"
	// fileHeaderLen is the size of the data-file header; the first chunk frame
	// starts right after it.
	fileHeaderLen = 16

	// frameMagic opens every chunk frame.
	frameMagic = "FSQC"
	// frameHeaderLen is the size of a chunk frame header; the Arrow IPC stream
	// follows it.
	frameHeaderLen = 32
	// frameAlign is the alignment of chunk frames within a data file. Frames
	// are followed by zero padding up to the next multiple.
	frameAlign = 8

	// MaxBlockRows is the largest number of rows a block may hold.
	MaxBlockRows = 1 << 24
	// maxPayloadLen bounds the Arrow IPC stream inside one chunk frame: the
	// largest column (16-byte addresses of MaxBlockRows rows) plus slack for
	// IPC metadata and codec framing.
	maxPayloadLen = MaxBlockRows*16 + 1<<20
	// maxIPCMetadataLen bounds one Arrow IPC message's flatbuffer metadata.
	maxIPCMetadataLen = 1 << 16
)

// supportedVersion reports whether this build reads format version v.
func supportedVersion(v uint32) bool { return v >= minFormatVersion && v <= FormatVersion }

// castagnoli is the CRC32C table used for every checksum in the format.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// align8 rounds n up to a multiple of frameAlign.
func align8(n int64) int64 { return (n + frameAlign - 1) &^ (frameAlign - 1) }

// fileHeader is the 16-byte header of a data file:
//
//	magic "FSQD" <4b> | version <2b> | reserved <2b> | day <4b> | crc32c <4b>
//
// day counts UTC days since 1970-01-01; crc32c covers bytes 0..11.
type fileHeader struct {
	Version uint16
	Day     uint32
}

// AppendTo appends the encoded header to dst.
func (h *fileHeader) AppendTo(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, fileMagic...)
	dst = binary.BigEndian.AppendUint16(dst, h.Version)
	dst = append(dst, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, h.Day)
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// Unmarshal decodes a header from src and checks magic, version and checksum,
// in that order. It returns the bytes after the header.
func (h *fileHeader) Unmarshal(src []byte) ([]byte, error) {
	if len(src) < fileHeaderLen {
		return src, fmt.Errorf("file header: short: got %d bytes, want %d", len(src), fileHeaderLen)
	}
	if string(src[:4]) != fileMagic {
		return src, fmt.Errorf("file header: bad magic %q, want %q", src[:4], fileMagic)
	}
	h.Version = binary.BigEndian.Uint16(src[4:6])
	if !supportedVersion(uint32(h.Version)) {
		return src, fmt.Errorf("file header: version %d (this build reads %d..%d): %w", h.Version, minFormatVersion, FormatVersion, ErrUnsupportedVersion)
	}
	if got, want := crc32.Checksum(src[:12], castagnoli), binary.BigEndian.Uint32(src[12:16]); got != want {
		return src, fmt.Errorf("file header: checksum %#08x, stored %#08x", got, want)
	}
	h.Day = binary.BigEndian.Uint32(src[8:12])
	return src[fileHeaderLen:], nil
}

// frameHeader is the 32-byte header of a chunk frame; the Arrow IPC stream of
// Length bytes follows it:
//
//	 0 magic "FSQC" <4b> | 4 version <1b> | 5 column <1b> | 6 part <1b> | 7 encoding <1b>
//	 8 codec <1b> | 9 reserved <3b> | 12 rows <4b> | 16 block start <8b>
//	24 length <4b> | 28 crc32c <4b>
//
// All integers are big-endian. crc32c covers header bytes 0..27 and the
// payload, so any flipped bit in the frame is found before Arrow parses it.
type frameHeader struct {
	Version  uint8
	Column   ColumnID
	Part     Part
	Encoding Encoding
	Codec    Codec
	Rows     uint32
	Start    int64
	Length   uint32
	CRC      uint32
}

// AppendTo appends the encoded header to dst. The CRC field is written as is;
// use appendFrame to compute it over a payload.
func (h *frameHeader) AppendTo(dst []byte) []byte {
	dst = append(dst, frameMagic...)
	dst = append(dst, h.Version, byte(h.Column), byte(h.Part), byte(h.Encoding), byte(h.Codec), 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, h.Rows)
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.Start))
	dst = binary.BigEndian.AppendUint32(dst, h.Length)
	return binary.BigEndian.AppendUint32(dst, h.CRC)
}

// Unmarshal decodes a header from src, checking magic, then version, then that
// every field is in range. It does not check the CRC (see checkFrame). It
// returns the bytes after the header.
func (h *frameHeader) Unmarshal(src []byte) ([]byte, error) {
	if len(src) < frameHeaderLen {
		return src, fmt.Errorf("chunk frame: short header: got %d bytes, want %d", len(src), frameHeaderLen)
	}
	if string(src[:4]) != frameMagic {
		return src, fmt.Errorf("chunk frame: bad magic %q, want %q", src[:4], frameMagic)
	}
	h.Version = src[4]
	if !supportedVersion(uint32(h.Version)) {
		return src, fmt.Errorf("chunk frame: version %d (this build reads %d..%d): %w", h.Version, minFormatVersion, FormatVersion, ErrUnsupportedVersion)
	}
	h.Column, h.Part, h.Encoding, h.Codec = ColumnID(src[5]), Part(src[6]), Encoding(src[7]), Codec(src[8])
	if src[9]|src[10]|src[11] != 0 {
		return src, fmt.Errorf("chunk frame: reserved bytes %x are not zero", src[9:12])
	}
	h.Rows = binary.BigEndian.Uint32(src[12:16])
	h.Start = int64(binary.BigEndian.Uint64(src[16:24]))
	h.Length = binary.BigEndian.Uint32(src[24:28])
	h.CRC = binary.BigEndian.Uint32(src[28:32])
	return src[frameHeaderLen:], h.validate()
}

// validate bounds-checks every field, naming the value and the limit.
func (h *frameHeader) validate() error {
	switch {
	case !h.Column.IsValid():
		return fmt.Errorf("chunk frame: column id %d out of range 1..%d", h.Column, NumColumns)
	case h.Part > PartRuns || (h.Part.IsDict() && !h.Column.IsAddr()) || (h.Part == PartDict4 && h.Version < 2) ||
		(h.Part == PartRuns && (h.Column != ColSIP || h.Version < 3)):
		return fmt.Errorf("chunk frame: part %d invalid for column %s in format version %d", h.Part, h.Column, h.Version)
	case !h.Encoding.IsValid():
		return fmt.Errorf("chunk frame: encoding %d out of range %d..%d", h.Encoding, EncUint8, EncSplit64)
	case h.Encoding != partEncoding(h.Part, h.Encoding):
		return fmt.Errorf("chunk frame: encoding %s invalid for %s %s", h.Encoding, h.Column, h.Part)
	case h.Encoding.IsSplit() && (!h.Column.isCounter() || h.Version < 2):
		return fmt.Errorf("chunk frame: encoding %s invalid for %s in format version %d", h.Encoding, h.Column, h.Version)
	case !h.Codec.IsValid():
		return fmt.Errorf("chunk frame: codec %d out of range 0..%d", h.Codec, CodecZstd)
	case h.Rows > MaxBlockRows:
		return fmt.Errorf("chunk frame: rows %d exceed limit %d", h.Rows, MaxBlockRows)
	case h.Start < 0:
		return fmt.Errorf("chunk frame: block start %d is negative", h.Start)
	case h.Length > maxPayloadLen:
		return fmt.Errorf("chunk frame: payload length %d exceeds limit %d", h.Length, maxPayloadLen)
	}
	return nil
}

// partEncoding returns the encoding a chunk of part p must have: e itself
// for values when it is an integer encoding; for dictionary parts their
// one address encoding. A result different from e marks e invalid.
func partEncoding(p Part, e Encoding) Encoding {
	switch p {
	case PartDict:
		return EncAddr128
	case PartDict4:
		return EncAddr32
	}
	if e == EncAddr128 || e == EncAddr32 {
		return 0
	}
	return e
}

// appendFrame appends a complete chunk frame (header, payload, zero padding to
// frameAlign) to dst. h.Length and h.CRC are set from the payload. dst must
// start frame-aligned relative to the file for the padding to line up.
func appendFrame(dst []byte, h *frameHeader, payload []byte) []byte {
	h.Length = uint32(len(payload))
	start := len(dst)
	dst = h.AppendTo(dst)
	crc := crc32.Checksum(dst[start:start+28], castagnoli)
	h.CRC = crc32.Update(crc, castagnoli, payload)
	binary.BigEndian.PutUint32(dst[start+28:], h.CRC)
	dst = append(dst, payload...)
	for (len(dst)-start)%frameAlign != 0 {
		dst = append(dst, 0)
	}
	return dst
}

// frameCRC computes the checksum of a frame given its full bytes.
func frameCRC(frame []byte) uint32 {
	crc := crc32.Checksum(frame[:28], castagnoli)
	return crc32.Update(crc, castagnoli, frame[frameHeaderLen:])
}
