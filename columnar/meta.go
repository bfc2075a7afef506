package columnar

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// BlockMeta is what the index knows about one stored block: its place in
// time, pruning statistics and where its chunks are. Blocks returns copies;
// they stay valid after the index changes (the chunks they point at may be
// removed by retention, and reads then fail with an error).
type BlockMeta struct {
	Iface string // interface name
	Start int64  // block start, unix seconds (the row's `time`)
	End   int64  // block end (exclusive), unix seconds
	Rows  int    // number of flows

	// Version is the format version of the entry and its chunks (0 in a
	// BlockMeta being built means FormatVersion). Version 1 stores each
	// address dictionary as one PartDict chunk; version 2 splits it into
	// PartDict4 (IPv4) and PartDict (the rest), omitting an empty part.
	Version uint8

	Flags BlockFlags

	// Distinct addresses of the sip and dip columns: the dictionary sizes.
	SIPDistinct, DIPDistinct int

	// Ranges of dport and proto over the rows (zero when Rows == 0).
	MinDPort, MaxDPort uint16
	MinProto, MaxProto uint8

	// Totals over the rows.
	BytesIn, BytesOut, PacketsIn, PacketsOut uint64

	// Interface counters of the interval (DESIGN §2).
	NonIP, ParseErrors uint64

	// File is the data file holding the chunks, relative to the database
	// folder: data/<iface-escaped>/<YYYYMMDD>.fsc of the UTC day of Start.
	File string

	// Chunks lists the block's chunks in storage order.
	Chunks []ChunkRef
}

// BlockFlags are properties of a block's rows.
type BlockFlags uint8

// FlagSorted says rows are sorted by (sip code, dip code); since dictionaries
// are sorted, that is address order, so the rows of one sip are contiguous.
const FlagSorted BlockFlags = 1

// FlagDistinct says no two rows of the block share (sip, dip, dport,
// proto): the block holds each flow at most once, as a flow table does. A
// query may then bound a flow's total over n blocks by n times its
// largest row (planner's threshold top-k). The writer sets it when it
// holds; a block without it may repeat a flow.
const FlagDistinct BlockFlags = 2

// FlagV4First says, of a block of version 2 on, that neither address dictionary
// has an entry below ::ffff:0.0.0.0 (only ::, ::1 and the deprecated
// IPv4-compatible addresses sort there): the IPv4 addresses, if any, have
// codes [0, n4), n4 being the rows of the column's PartDict4 chunk. A
// reader that needs IPv4 entries only then reads that chunk alone, not the
// 16-byte part (ReadDictV4, and ReadColumnRows when the rows it is asked
// for all hold IPv4 codes). The writer sets it when it holds.
const FlagV4First BlockFlags = 4

// knownFlags are the flags this version reads.
const knownFlags = FlagSorted | FlagDistinct | FlagV4First

// Chunk returns the reference of the chunk holding part p of column c. In a
// version 2 block a dictionary part with no entries has no chunk.
func (m *BlockMeta) Chunk(c ColumnID, p Part) (ChunkRef, bool) {
	for _, ch := range m.Chunks {
		if ch.Column == c && ch.Part == p {
			return ch, true
		}
	}
	return ChunkRef{}, false
}

// V4Codes reports whether the IPv4 addresses of address column c have
// codes [0, n) and can be read alone (FlagV4First), and n.
func (m *BlockMeta) V4Codes(c ColumnID) (n int, ok bool) {
	if m.Flags&FlagV4First == 0 || m.version() < 2 {
		return 0, false
	}
	if r, ok := m.Chunk(c, PartDict4); ok {
		n = r.Rows
	}
	return n, true
}

// ValuesChunk returns the chunk holding the rows of column c: its values,
// or for the sip column of a version 3 block its runs (PartRuns). Values
// stored as pages (version 4) give their first page; Pages gives all.
func (m *BlockMeta) ValuesChunk(c ColumnID) (ChunkRef, bool) {
	if r, ok := m.Chunk(c, PartValues); ok {
		return r, true
	}
	return m.Chunk(c, PartRuns)
}

// Pages returns the chunks holding part p of column c, in row order: one
// chunk, or for the values of a version 4 block stored in pages, each
// page (FORMAT.md "v4 pages"). The result aliases m.Chunks.
func (m *BlockMeta) Pages(c ColumnID, p Part) []ChunkRef {
	for i, ch := range m.Chunks {
		if ch.Column == c && ch.Part == p {
			j := i + 1
			for j < len(m.Chunks) && m.Chunks[j].Column == c && m.Chunks[j].Part == p {
				j++
			}
			return m.Chunks[i:j:j]
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Bytes returns BytesIn + BytesOut.
func (m *BlockMeta) Bytes() uint64 { return m.BytesIn + m.BytesOut }

// Packets returns PacketsIn + PacketsOut.
func (m *BlockMeta) Packets() uint64 { return m.PacketsIn + m.PacketsOut }

// DiskBytes returns the bytes of data file the block's chunks occupy,
// including frame padding.
func (m *BlockMeta) DiskBytes() int64 {
	var n int64
	for _, c := range m.Chunks {
		n += align8(c.Length)
	}
	return n
}

// ChunkRef locates one chunk frame in a data file.
type ChunkRef struct {
	Column   ColumnID
	Part     Part
	Encoding Encoding
	Codec    Codec
	Rows     int    // values in the chunk: block rows, or dictionary size for PartDict
	Offset   int64  // offset of the frame in the data file
	Length   int64  // frame length: header plus Arrow IPC stream, without padding
	CRC      uint32 // the frame's CRC32C, repeated from its header
}

// Index value layout (FORMAT.md "Block entry").
const (
	blockEntryFixedLen = 88
	chunkRefLen        = 24
	// maxChunksPerBlock: values of every column, plus up to two dictionary
	// parts for each of the two address columns (version 2).
	maxChunksPerBlock = NumColumns + 4
	// maxPagesPerPart bounds the pages of one column's values (version
	// 4), so that an entry's chunks fit its one-byte count: a writer
	// makes its pages larger for a block of more than 32 pages' rows.
	maxPagesPerPart = 32
	// maxChunksPerBlockV4: the dictionary parts, the sip runs, and up to
	// maxPagesPerPart pages of each other column's values.
	maxChunksPerBlockV4 = 4 + 1 + (NumColumns-1)*maxPagesPerPart
	// minChunksPerBlock: values of every column plus one dictionary chunk
	// per address column (always so in version 1).
	minChunksPerBlock = NumColumns + 2
)

// version returns the entry's format version, FormatVersion when unset.
func (m *BlockMeta) version() uint8 {
	if m.Version == 0 {
		return FormatVersion
	}
	return m.Version
}

// AppendTo appends the index value of m to dst.
func (m *BlockMeta) AppendTo(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, m.version(), byte(m.Flags), byte(len(m.Chunks)), 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(m.Rows))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.Start))
	dst = binary.BigEndian.AppendUint64(dst, uint64(m.End))
	dst = binary.BigEndian.AppendUint32(dst, uint32(m.SIPDistinct))
	dst = binary.BigEndian.AppendUint32(dst, uint32(m.DIPDistinct))
	dst = binary.BigEndian.AppendUint16(dst, m.MinDPort)
	dst = binary.BigEndian.AppendUint16(dst, m.MaxDPort)
	dst = append(dst, m.MinProto, m.MaxProto, 0, 0)
	for _, v := range [...]uint64{m.BytesIn, m.BytesOut, m.PacketsIn, m.PacketsOut, m.NonIP, m.ParseErrors} {
		dst = binary.BigEndian.AppendUint64(dst, v)
	}
	for i := range m.Chunks {
		dst = m.Chunks[i].appendTo(dst)
	}
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

func (c *ChunkRef) appendTo(dst []byte) []byte {
	dst = append(dst, byte(c.Column), byte(c.Part), byte(c.Encoding), byte(c.Codec))
	dst = binary.BigEndian.AppendUint32(dst, uint32(c.Rows))
	dst = binary.BigEndian.AppendUint64(dst, uint64(c.Offset))
	dst = binary.BigEndian.AppendUint32(dst, uint32(c.Length))
	return binary.BigEndian.AppendUint32(dst, c.CRC)
}

// Unmarshal decodes an index value into m, checking version, checksum and
// field ranges. Iface and File are not stored in the value; the caller sets
// them from the bucket and key. Chunks reuses m.Chunks' capacity.
func (m *BlockMeta) Unmarshal(src []byte) error {
	if len(src) < 4 {
		return fmt.Errorf("block entry: short: %d bytes", len(src))
	}
	if !supportedVersion(uint32(src[0])) {
		return fmt.Errorf("block entry: version %d (this build reads %d..%d): %w", src[0], minFormatVersion, FormatVersion, ErrUnsupportedVersion)
	}
	n := int(src[2])
	if want := blockEntryFixedLen + n*chunkRefLen + 4; len(src) != want {
		return fmt.Errorf("block entry: length %d, want %d for %d chunks", len(src), want, n)
	}
	body := src[:len(src)-4]
	if got, want := crc32.Checksum(body, castagnoli), binary.BigEndian.Uint32(src[len(body):]); got != want {
		return fmt.Errorf("block entry: checksum %#08x, stored %#08x", got, want)
	}
	if src[3] != 0 || src[38] != 0 || src[39] != 0 {
		return fmt.Errorf("block entry: reserved bytes %x %x are not zero", src[3], src[38:40])
	}
	d := decbuf{b: body[4:]}
	m.Version = src[0]
	m.Flags = BlockFlags(src[1])
	if m.Flags&^knownFlags != 0 {
		return fmt.Errorf("block entry: unknown flags %#x", m.Flags)
	}
	if m.Flags&FlagV4First != 0 && m.Version < 2 {
		return fmt.Errorf("block entry: flag %#x of a version %d entry, which has no IPv4 dictionary part", FlagV4First, m.Version)
	}
	m.Rows = int(d.u32())
	m.Start, m.End = int64(d.u64()), int64(d.u64())
	m.SIPDistinct, m.DIPDistinct = int(d.u32()), int(d.u32())
	m.MinDPort, m.MaxDPort = d.u16(), d.u16()
	m.MinProto, m.MaxProto = d.u8(), d.u8()
	d.skip(2)
	m.BytesIn, m.BytesOut, m.PacketsIn, m.PacketsOut = d.u64(), d.u64(), d.u64(), d.u64()
	m.NonIP, m.ParseErrors = d.u64(), d.u64()
	m.Chunks = m.Chunks[:0]
	for range n {
		c := ChunkRef{Column: ColumnID(d.u8()), Part: Part(d.u8()), Encoding: Encoding(d.u8()), Codec: Codec(d.u8())}
		c.Rows = int(d.u32())
		c.Offset = int64(d.u64())
		c.Length = int64(d.u32())
		c.CRC = d.u32()
		m.Chunks = append(m.Chunks, c)
	}
	if d.err != nil {
		return fmt.Errorf("block entry: %w", d.err)
	}
	return m.validate()
}

// validate bounds-checks a decoded entry, naming the offending values.
func (m *BlockMeta) validate() error {
	switch {
	case m.Start < 0 || m.End <= m.Start:
		return fmt.Errorf("block entry: time range [%d, %d) is empty or negative", m.Start, m.End)
	case m.Rows > MaxBlockRows:
		return fmt.Errorf("block entry: rows %d exceed limit %d", m.Rows, MaxBlockRows)
	case m.SIPDistinct > m.Rows || m.DIPDistinct > m.Rows:
		return fmt.Errorf("block entry: distinct addresses sip %d dip %d exceed rows %d", m.SIPDistinct, m.DIPDistinct, m.Rows)
	case m.Rows > 0 && (m.MinDPort > m.MaxDPort || m.MinProto > m.MaxProto):
		return fmt.Errorf("block entry: max < min: dport [%d, %d], proto [%d, %d]", m.MinDPort, m.MaxDPort, m.MinProto, m.MaxProto)
	case m.Rows == 0 && len(m.Chunks) != 0:
		return fmt.Errorf("block entry: %d chunks for an empty block, want 0", len(m.Chunks))
	case m.Rows > 0 && m.version() < 2 && len(m.Chunks) != minChunksPerBlock:
		return fmt.Errorf("block entry: %d chunks, want %d in version %d", len(m.Chunks), minChunksPerBlock, m.version())
	case m.Rows > 0 && m.version() < 4 && (len(m.Chunks) < minChunksPerBlock || len(m.Chunks) > maxChunksPerBlock):
		return fmt.Errorf("block entry: %d chunks, want %d..%d", len(m.Chunks), minChunksPerBlock, maxChunksPerBlock)
	case m.Rows > 0 && (len(m.Chunks) < minChunksPerBlock || len(m.Chunks) > maxChunksPerBlockV4):
		return fmt.Errorf("block entry: %d chunks, want %d..%d", len(m.Chunks), minChunksPerBlock, maxChunksPerBlockV4)
	}
	// Dictionary entries per address column, summed over its parts.
	var dictRows [NumColumns + 1]int
	for i, c := range m.Chunks {
		h := frameHeader{Version: m.version(), Column: c.Column, Part: c.Part, Encoding: c.Encoding, Codec: c.Codec,
			Rows: uint32(c.Rows), Length: uint32(max(c.Length-frameHeaderLen, 0))}
		if err := h.validate(); err != nil {
			return fmt.Errorf("block entry: chunk %d: %w", i, err)
		}
		if c.Part.IsDict() {
			if c.Rows == 0 {
				return fmt.Errorf("block entry: chunk %d (%s %s) is empty", i, c.Column, c.Part)
			}
			dictRows[c.Column] += c.Rows
		} else if c.Part == PartRuns {
			if c.Rows != m.SIPDistinct || m.Flags&FlagSorted == 0 {
				return fmt.Errorf("block entry: chunk %d (%s %s): %d runs for %d addresses, rows sorted %v", i, c.Column, c.Part, c.Rows, m.SIPDistinct, m.Flags&FlagSorted != 0)
			}
		} else if c.Rows != m.Rows && (m.version() < 4 || c.Rows == 0 || c.Rows > m.Rows) {
			return fmt.Errorf("block entry: chunk %d (%s %s): rows %d, want %d", i, c.Column, c.Part, c.Rows, m.Rows)
		}
		if c.Offset < fileHeaderLen || c.Offset%frameAlign != 0 || c.Length < frameHeaderLen {
			return fmt.Errorf("block entry: chunk %d (%s %s): bad offset %d or length %d", i, c.Column, c.Part, c.Offset, c.Length)
		}
		page := i > 0 && m.version() >= 4 && c.Part == PartValues && m.Chunks[i-1].Column == c.Column && m.Chunks[i-1].Part == c.Part
		for _, o := range m.Chunks[:i] {
			if o.Column == c.Column && o.Part == c.Part && !page {
				return fmt.Errorf("block entry: chunk %d (%s %s) appears twice", i, c.Column, c.Part)
			}
		}
	}
	if err := m.validatePages(); err != nil {
		return err
	}
	if m.Rows == 0 {
		return nil
	}
	// Every column has its values; each address column has dictionary
	// parts holding exactly its distinct addresses. With the count limits
	// above and no duplicates, that accounts for every chunk.
	for _, id := range Columns() {
		_, values := m.Chunk(id, PartValues)
		_, runs := m.Chunk(id, PartRuns)
		if values == runs {
			return fmt.Errorf("block entry: %s has %d chunks of values or runs, want 1", id, b2i(values)+b2i(runs))
		}
	}
	for _, d := range [...]struct {
		id   ColumnID
		want int
	}{{ColSIP, m.SIPDistinct}, {ColDIP, m.DIPDistinct}} {
		if dictRows[d.id] != d.want {
			return fmt.Errorf("block entry: %s dictionary chunks hold %d addresses, want %d", d.id, dictRows[d.id], d.want)
		}
	}
	return nil
}

// validatePages checks the values of each column of a version 4 entry:
// one chunk of all the rows, or up to maxPagesPerPart pages that hold,
// in row order, the same number of rows but the last, which holds the
// rest, adding up to the block's rows, stored one after the other in the
// data file (FORMAT.md "v4 pages"). Other versions have no pages.
func (m *BlockMeta) validatePages() error {
	if m.version() < 4 || m.Rows == 0 {
		return nil
	}
	for _, id := range Columns() {
		pages := m.Pages(id, PartValues)
		if len(pages) <= 1 {
			continue
		}
		per, sum := pages[0].Rows, 0
		for i, p := range pages {
			sum += p.Rows
			last := i == len(pages)-1
			if !last && p.Rows != per || last && p.Rows > per {
				return fmt.Errorf("block entry: %s page %d of %d holds %d rows, pages hold %d", id, i, len(pages), p.Rows, per)
			}
			if i > 0 && p.Offset != align8(pages[i-1].Offset+pages[i-1].Length) {
				return fmt.Errorf("block entry: %s page %d at %d does not follow page %d", id, i, p.Offset, i-1)
			}
		}
		if len(pages) > maxPagesPerPart || sum != m.Rows {
			return fmt.Errorf("block entry: %s has %d pages of %d rows, want at most %d adding up to %d", id, len(pages), sum, maxPagesPerPart, m.Rows)
		}
	}
	return nil
}

// fileEntry is the index value of a data file (FORMAT.md "File entry"):
// the committed length, where the next block is appended, and the number of
// blocks stored in it.
type fileEntry struct {
	Length int64
	Blocks uint32
}

const fileEntryLen = 20

// AppendTo appends the encoded entry to dst.
func (f *fileEntry) AppendTo(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, FormatVersion, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, f.Blocks)
	dst = binary.BigEndian.AppendUint64(dst, uint64(f.Length))
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// Unmarshal decodes and validates an entry.
func (f *fileEntry) Unmarshal(src []byte) error {
	if len(src) != fileEntryLen {
		return fmt.Errorf("file entry: length %d, want %d", len(src), fileEntryLen)
	}
	if !supportedVersion(uint32(src[0])) {
		return fmt.Errorf("file entry: version %d (this build reads %d..%d): %w", src[0], minFormatVersion, FormatVersion, ErrUnsupportedVersion)
	}
	if got, want := crc32.Checksum(src[:16], castagnoli), binary.BigEndian.Uint32(src[16:]); got != want {
		return fmt.Errorf("file entry: checksum %#08x, stored %#08x", got, want)
	}
	if src[1]|src[2]|src[3] != 0 {
		return fmt.Errorf("file entry: reserved bytes %x are not zero", src[1:4])
	}
	f.Blocks = binary.BigEndian.Uint32(src[4:8])
	f.Length = int64(binary.BigEndian.Uint64(src[8:16]))
	if f.Length < fileHeaderLen || f.Length%frameAlign != 0 {
		return fmt.Errorf("file entry: length %d is not an aligned size >= %d", f.Length, fileHeaderLen)
	}
	return nil
}

// decbuf consumes big-endian integers with a sticky error.
type decbuf struct {
	b   []byte
	err error
}

func (d *decbuf) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = fmt.Errorf("truncated: need %d bytes, have %d", n, len(d.b))
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decbuf) skip(n int) { d.take(n) }

func (d *decbuf) u8() uint8 {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decbuf) u16() uint16 {
	if p := d.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (d *decbuf) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *decbuf) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}
