package columnar

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/flowsql/flowsql/internal/invariants"
)

// validateBlock checks a block before anything is written, naming the
// offending values.
func validateBlock(b *Block) error {
	if b == nil {
		return fmt.Errorf("%w: nil block", ErrInvalidBlock)
	}
	if err := ifaceNameOK(b.Iface); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidBlock, err)
	}
	if !utf8.ValidString(b.Iface) {
		return fmt.Errorf("%w: interface name %q is not valid UTF-8", ErrInvalidBlock, b.Iface)
	}
	if b.Start < 0 || b.End <= b.Start {
		return fmt.Errorf("%w: iface %q: time range [%d, %d) is empty or negative", ErrInvalidBlock, b.Iface, b.Start, b.End)
	}
	if b.End-b.Start > secondsPerDay {
		return fmt.Errorf("%w: iface %q: block [%d, %d) lasts %d s, limit %d", ErrInvalidBlock, b.Iface, b.Start, b.End, b.End-b.Start, secondsPerDay)
	}
	n := len(b.SIP)
	if n > MaxBlockRows {
		return fmt.Errorf("%w: iface %q start %d: %d rows exceed limit %d", ErrInvalidBlock, b.Iface, b.Start, n, MaxBlockRows)
	}
	lens := [...]int{len(b.DIP), len(b.DPort), len(b.Proto), len(b.BytesIn), len(b.BytesOut), len(b.PacketsIn), len(b.PacketsOut)}
	for i, l := range lens {
		if l != n {
			return fmt.Errorf("%w: iface %q start %d: column %s has %d rows, sip has %d", ErrInvalidBlock, b.Iface, b.Start, ColumnID(i+2), l, n)
		}
	}
	return nil
}

// blockEncoder turns a Block into sorted, dictionary-encoded, narrowed
// columns. It keeps its scratch space between blocks; it is owned by the
// DB's writer and used under its lock.
type blockEncoder struct {
	dictIndex map[[16]byte]uint32

	sip, dip addrDict

	perm, permTmp, counts []uint32

	// split holds the byte planes of a version 2 dictionary part or
	// counter being encoded, nonV4 a version 2 dictionary part, pageBuf
	// the planes of one page of a split counter (page).
	split, nonV4, pageBuf []byte
	// v1Dicts makes column return PartDict as version 1 stored it: the
	// whole dictionary. For benchmarks comparing the two versions only.
	v1Dicts bool
	// plainCounters makes column return counters as plain integers, as
	// format version 2 first stored them. For benchmarks only.
	plainCounters bool
	// runCounts and runBytes hold the sip runs being encoded (runs).
	runCounts []uint32
	runBytes  []byte
	// damageSplit, in tests, moves the bounds of the IPv4 part of each
	// dictionary after it is built, to write damaged version 2 blocks.
	damageSplit func(d *addrDict)

	u8  []uint8
	u16 []uint16
	u32 []uint32
	u64 []uint64
}

// addrDict is a sorted dictionary of one address column and each row's code.
type addrDict struct {
	values [][16]byte // sorted, distinct
	codes  []uint32   // per input row
	order  []uint32   // scratch: provisional id -> rank
	ids    []uint32   // scratch: rank -> provisional id

	// v4lo, v4hi bound the IPv4-mapped entries of values.
	v4lo, v4hi int
}

// build fills d from the rows of addrs.
func (d *addrDict) build(addrs [][16]byte, index map[[16]byte]uint32) {
	clear(index)
	d.values = d.values[:0]
	d.codes = d.codes[:0]
	for _, a := range addrs {
		id, ok := index[a]
		if !ok {
			id = uint32(len(d.values))
			index[a] = id
			d.values = append(d.values, a)
		}
		d.codes = append(d.codes, id)
	}
	// Sort the distinct values, then map provisional ids to ranks.
	d.ids = d.ids[:0]
	for i := range d.values {
		d.ids = append(d.ids, uint32(i))
	}
	vals := d.values
	slices.SortFunc(d.ids, func(a, b uint32) int { return compareAddr(&vals[a], &vals[b]) })
	d.order = slices.Grow(d.order[:0], len(d.ids))[:len(d.ids)]
	for rank, id := range d.ids {
		d.order[id] = uint32(rank)
	}
	for i, id := range d.codes {
		d.codes[i] = d.order[id]
	}
	// Permute values into sorted order in place through the rank table.
	sorted := d.values
	for i := 0; i < len(sorted); i++ {
		for d.order[i] != uint32(i) {
			j := d.order[i]
			sorted[i], sorted[j] = sorted[j], sorted[i]
			d.order[i], d.order[j] = d.order[j], d.order[i]
		}
	}
	d.v4lo, d.v4hi = v4Span(addrBytes(sorted), len(sorted))
}

// compareAddr orders 16-byte addresses bytewise (network order), so an
// IPv4-mapped block and every CIDR prefix is a contiguous range.
func compareAddr(a, b *[16]byte) int {
	if c := cmp.Compare(binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])); c != 0 {
		return c
	}
	return cmp.Compare(binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:]))
}

// encodeBlock computes the dictionaries, the row order and the statistics of
// b into e and m. Columns are then produced one at a time by column.
func (e *blockEncoder) encodeBlock(b *Block, m *BlockMeta) {
	if e.dictIndex == nil {
		e.dictIndex = make(map[[16]byte]uint32)
	}
	n := b.Len()
	e.sip.build(b.SIP, e.dictIndex)
	e.dip.build(b.DIP, e.dictIndex)
	clear(e.dictIndex)
	if e.damageSplit != nil {
		e.damageSplit(&e.sip)
		e.damageSplit(&e.dip)
	}

	// Row order: LSD counting sort by dip code, then (stable) by sip code.
	e.perm = slices.Grow(e.perm[:0], n)[:n]
	e.permTmp = slices.Grow(e.permTmp[:0], n)[:n]
	for i := range e.permTmp {
		e.permTmp[i] = uint32(i)
	}
	e.countingSort(e.perm, e.permTmp, e.dip.codes, len(e.dip.values))
	e.countingSort(e.permTmp, e.perm, e.sip.codes, len(e.sip.values))
	e.perm, e.permTmp = e.permTmp, e.perm
	if invariants.Enabled {
		e.assertSorted()
	}

	flags := FlagSorted
	if e.distinctFlows(b) {
		flags |= FlagDistinct
	}
	if e.sip.v4lo == 0 && e.dip.v4lo == 0 {
		flags |= FlagV4First
	}
	*m = BlockMeta{
		Iface: b.Iface, Start: b.Start, End: b.End, Rows: n, Flags: flags,
		SIPDistinct: len(e.sip.values), DIPDistinct: len(e.dip.values),
		NonIP: b.NonIP, ParseErrors: b.ParseErrors,
		File: dataFileRel(b.Iface, dayOf(b.Start)), Chunks: m.Chunks[:0], Version: FormatVersion,
	}
	if n == 0 {
		return
	}
	m.MinDPort, m.MaxDPort = slices.Min(b.DPort), slices.Max(b.DPort)
	m.MinProto, m.MaxProto = slices.Min(b.Proto), slices.Max(b.Proto)
	m.BytesIn, m.BytesOut = sum(b.BytesIn), sum(b.BytesOut)
	m.PacketsIn, m.PacketsOut = sum(b.PacketsIn), sum(b.PacketsOut)
}

// distinctFlows reports whether no two rows of b share (sip, dip, dport,
// proto), from the row order: rows of one (sip, dip) are adjacent, so only
// their (dport, proto) need comparing, pairwise in the usual short runs.
func (e *blockEncoder) distinctFlows(b *Block) bool {
	perm, sc, dc := e.perm, e.sip.codes, e.dip.codes
	for i := 0; i < len(perm); {
		j := i + 1
		for j < len(perm) && sc[perm[j]] == sc[perm[i]] && dc[perm[j]] == dc[perm[i]] {
			j++
		}
		if j-i > 1 && !distinctPorts(b, perm[i:j], &e.counts) {
			return false
		}
		i = j
	}
	return true
}

// distinctPorts reports whether the rows run of b have distinct (dport,
// proto); scratch holds a sorted copy of a long run's pairs.
func distinctPorts(b *Block, run []uint32, scratch *[]uint32) bool {
	pair := func(r uint32) uint32 { return uint32(b.DPort[r])<<8 | uint32(b.Proto[r]) }
	if len(run) <= 16 {
		for x := 1; x < len(run); x++ {
			px := pair(run[x])
			for _, r := range run[:x] {
				if pair(r) == px {
					return false
				}
			}
		}
		return true
	}
	s := (*scratch)[:0]
	for _, r := range run {
		s = append(s, pair(r))
	}
	slices.Sort(s)
	*scratch = s
	for x := 1; x < len(s); x++ {
		if s[x] == s[x-1] {
			return false
		}
	}
	return true
}

// assertSorted checks the dictionaries and the row order (invariants builds
// only: it is O(rows)).
func (e *blockEncoder) assertSorted() {
	for _, d := range []*addrDict{&e.sip, &e.dip} {
		for i := 1; i < len(d.values); i++ {
			if compareAddr(&d.values[i-1], &d.values[i]) >= 0 {
				_ = invariants.AssertionFailedf("dictionary not strictly ascending at %d", i)
			}
		}
	}
	for i := 1; i < len(e.perm); i++ {
		a, b := e.perm[i-1], e.perm[i]
		if sa, sb := e.sip.codes[a], e.sip.codes[b]; sa > sb || sa == sb && e.dip.codes[a] > e.dip.codes[b] {
			_ = invariants.AssertionFailedf("rows not in (sip, dip) order at %d", i)
		}
	}
}

// countingSort writes src reordered by key[src[i]] (stable) into dst.
func (e *blockEncoder) countingSort(dst, src, key []uint32, nkeys int) {
	e.counts = slices.Grow(e.counts[:0], nkeys+1)[:nkeys+1]
	clear(e.counts)
	for _, k := range key {
		e.counts[k+1]++
	}
	for i := 1; i < len(e.counts); i++ {
		e.counts[i] += e.counts[i-1]
	}
	for _, r := range src {
		k := key[r]
		dst[e.counts[k]] = r
		e.counts[k]++
	}
}

func sum(v []uint64) uint64 {
	var s uint64
	for _, x := range v {
		s += x
	}
	return s
}

// column returns the encoding, value count and raw little-endian bytes of one
// column part in row order, narrowed to the smallest width, and for
// counters wider than a byte split into byte planes; for the dictionary
// parts, their entries (FORMAT.md "Column encodings"). The bytes
// alias e's scratch space and are valid until the next call. A dictionary
// part may have no entries; the writer then omits its chunk.
func (e *blockEncoder) column(b *Block, c ColumnID, p Part) (Encoding, int, []byte) {
	if p.IsDict() {
		d := &e.sip
		if c == ColDIP {
			d = &e.dip
		}
		switch {
		case p == PartDict4:
			e.split = appendSplitV4(e.split[:0], d.values[d.v4lo:d.v4hi])
			return EncAddr32, d.v4hi - d.v4lo, e.split
		case e.v1Dicts:
			return EncAddr128, len(d.values), addrBytes(d.values)
		}
		return EncAddr128, len(d.values) - (d.v4hi - d.v4lo), e.nonV4Bytes(d)
	}
	switch {
	case c == ColSIP && p == PartRuns:
		return e.runs()
	case c == ColSIP:
		return narrowed(e, e.sip.codes, uint64(max(len(e.sip.values)-1, 0)))
	case c == ColDIP:
		return narrowed(e, e.dip.codes, uint64(max(len(e.dip.values)-1, 0)))
	case c == ColDPort:
		return narrowed(e, b.DPort, uint64(slices.Max(b.DPort)))
	case c == ColProto:
		return narrowed(e, b.Proto, 0)
	}
	src := b.PacketsOut
	switch c {
	case ColBytesIn:
		src = b.BytesIn
	case ColBytesOut:
		src = b.BytesOut
	case ColPacketsIn:
		src = b.PacketsIn
	}
	enc, n, data := narrowed(e, src, slices.Max(src))
	if enc == EncUint8 || e.plainCounters {
		return enc, n, data
	}
	e.split = appendSplit(e.split[:0], data, enc.Width())
	return splitEncoding(enc), n, e.split
}

// page returns rows [p0, p1) of a column's values data of n rows and
// encoding e as a chunk of their own: a slice of plain values, or for a
// split encoding the page's slice of each byte plane, which are the
// page's own planes. The result may alias e.pageBuf.
func (e *blockEncoder) page(enc Encoding, data []byte, n, p0, p1 int) []byte {
	w := enc.Width()
	if !enc.IsSplit() {
		return data[p0*w : p1*w]
	}
	e.pageBuf = e.pageBuf[:0]
	for k := range w {
		e.pageBuf = append(e.pageBuf, data[k*n+p0:k*n+p1]...)
	}
	return e.pageBuf
}

// runs returns the sip column as PartRuns: the number of rows of each sip
// code, at the narrowest width that holds the largest. Rows are sorted by
// sip code, so these counts are the codes, run-length encoded.
func (e *blockEncoder) runs() (Encoding, int, []byte) {
	n := len(e.sip.values)
	e.runCounts = slices.Grow(e.runCounts[:0], n)[:n]
	clear(e.runCounts)
	for _, c := range e.sip.codes {
		e.runCounts[c]++
	}
	enc := uintEncoding(uint64(slices.Max(e.runCounts)))
	e.runBytes = e.runBytes[:0]
	for _, r := range e.runCounts {
		switch enc {
		case EncUint8:
			e.runBytes = append(e.runBytes, byte(r))
		case EncUint16:
			e.runBytes = binary.LittleEndian.AppendUint16(e.runBytes, uint16(r))
		default:
			e.runBytes = binary.LittleEndian.AppendUint32(e.runBytes, r)
		}
	}
	return enc, n, e.runBytes
}

type unsigned interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// narrowed gathers src in e.perm order at the width that holds maxv.
// REQUIRES: len(src) > 0 and every value <= maxv.
func narrowed[S unsigned](e *blockEncoder, src []S, maxv uint64) (Encoding, int, []byte) {
	enc := uintEncoding(maxv)
	switch enc {
	case EncUint8:
		e.u8 = gather(e.u8, src, e.perm)
		return enc, len(src), e.u8
	case EncUint16:
		e.u16 = gather(e.u16, src, e.perm)
		return enc, len(src), uint16Bytes(e.u16)
	case EncUint32:
		e.u32 = gather(e.u32, src, e.perm)
		return enc, len(src), uint32Bytes(e.u32)
	}
	e.u64 = gather(e.u64, src, e.perm)
	return enc, len(src), uint64Bytes(e.u64)
}

// gather sets dst[i] = src[perm[i]], converting the width.
func gather[D, S unsigned](dst []D, src []S, perm []uint32) []D {
	dst = slices.Grow(dst[:0], len(perm))[:len(perm)]
	for i, r := range perm {
		dst[i] = D(src[r])
	}
	return dst
}
