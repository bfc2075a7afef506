package columnar

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	bolt "go.etcd.io/bbolt"
)

// Check verifies the whole database and returns every problem found (nil
// when healthy): index entries decode; each interface's blocks are sorted
// and do not overlap; every chunk lies inside an existing data file, within
// its committed length and without overlapping another; every chunk's
// checksum matches and it decodes both with the store's decoder and with
// arrow-go's IPC reader, to equal values; row counts agree across a block's
// chunks and with its entry; the entry's statistics agree with the data;
// dictionaries are sorted and distinct (across both parts of a version 2
// dictionary, whose 16-byte part holds no IPv4-mapped address); data files hold no bytes past their
// committed length; no unknown files sit in the data folder. Check reads
// every byte; it is meant for `flowsql check` and tests.
//
// Check checks one snapshot of the index. On a read-write DB (holding the
// writer lock, after recovery) it is strict: it holds off this DB's writes
// while it compares the index with the files, and reports bytes past a
// committed length, *.tmp files and data files without an index entry. A
// read-only DB may run while a writer process appends, so there those are
// an append in flight, not damage, and are not reported; neither are files
// and blocks that retention removed after the snapshot.
func (db *DB) Check(ctx context.Context) []error {
	if err := db.checkOpen(); err != nil {
		return []error{err}
	}
	var errs []error
	report := func(err error) { errs = append(errs, err) }
	strict := !db.opts.ReadOnly
	if strict {
		db.wmu.Lock()
	}
	blocks, files, err := db.checkIndex(ctx, report)
	if err == nil {
		db.checkFiles(ctx, blocks, files, report)
	}
	if strict {
		db.wmu.Unlock()
	}
	if err != nil {
		return append(errs, err)
	}
	mem := memory.NewGoAllocator()
	for i := range blocks {
		if err := ctx.Err(); err != nil {
			return append(errs, err)
		}
		if err := db.checkBlock(ctx, &blocks[i], mem); err != nil && !errors.Is(err, ErrBlockRemoved) {
			report(err)
		}
	}
	return errs
}

// checkIndex decodes every entry, checking per-interface order.
func (db *DB) checkIndex(ctx context.Context, report func(error)) ([]BlockMeta, map[string]fileEntry, error) {
	var blocks []BlockMeta
	files := make(map[string]fileEntry)
	err := db.view(ctx, func(tx *bolt.Tx) error {
		ifaces, err := selectedIfaces(tx, nil)
		if err != nil {
			return err
		}
		for _, iface := range ifaces {
			var prev *BlockMeta
			err := tx.Bucket(bucketBlocks).Bucket([]byte(iface)).ForEach(func(k, v []byte) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				var m BlockMeta
				if err := db.decodeBlock(iface, k, v, &m); err != nil {
					report(err)
					return nil
				}
				if prev != nil && prev.End > m.Start {
					report(corruptf(db.indexPath(), -1, "iface %q: block [%d, %d) overlaps the previous [%d, %d)", iface, m.Start, m.End, prev.Start, prev.End))
				}
				blocks = append(blocks, m)
				prev = &blocks[len(blocks)-1]
				return nil
			})
			if err != nil {
				return err
			}
		}
		return tx.Bucket(bucketFiles).ForEachBucket(func(iface []byte) error {
			return tx.Bucket(bucketFiles).Bucket(iface).ForEach(func(k, v []byte) error {
				var f fileEntry
				if len(k) != 4 {
					report(corruptf(db.indexPath(), -1, "files/%q: key of %d bytes", iface, len(k)))
					return nil
				}
				if err := f.Unmarshal(v); err != nil {
					report(corruptf(db.indexPath(), -1, "files/%q/%x: %v", iface, k, err))
					return nil
				}
				files[dataFileRel(string(iface), binary.BigEndian.Uint32(k))] = f
				return nil
			})
		})
	})
	return blocks, files, err
}

// checkFiles compares the chunk layout the block entries describe with the
// file entries and the files on disk.
func (db *DB) checkFiles(ctx context.Context, blocks []BlockMeta, files map[string]fileEntry, report func(error)) {
	inFlight := db.opts.ReadOnly // see Check
	type span struct{ off, end int64 }
	spans := make(map[string][]span)
	nblocks := make(map[string]uint32)
	for _, m := range blocks {
		if m.File == "" {
			continue
		}
		nblocks[m.File]++
		for _, c := range m.Chunks {
			spans[m.File] = append(spans[m.File], span{c.Offset, c.Offset + c.Length})
		}
	}
	for rel, ss := range spans {
		path := filepath.Join(db.dir, rel)
		f, ok := files[rel]
		if !ok {
			report(corruptf(db.indexPath(), -1, "blocks point into %s, which has no file entry", rel))
			continue
		}
		slices.SortFunc(ss, func(a, b span) int { return int(a.off - b.off) })
		for i := 1; i < len(ss); i++ {
			if ss[i].off < align8(ss[i-1].end) {
				report(corruptf(path, ss[i].off, "chunk overlaps the chunk at %d", ss[i-1].off))
			}
		}
		if end := align8(ss[len(ss)-1].end); end != f.Length {
			report(corruptf(path, end, "last chunk ends at %d, file entry says committed length %d", end, f.Length))
		}
		if nblocks[rel] != f.Blocks {
			report(corruptf(db.indexPath(), -1, "file entry of %s counts %d blocks, index holds %d", rel, f.Blocks, nblocks[rel]))
		}
	}
	for rel, f := range files {
		path := filepath.Join(db.dir, rel)
		if _, ok := spans[rel]; !ok {
			report(corruptf(db.indexPath(), -1, "file entry for %s has no blocks", rel))
		}
		fi, err := os.Stat(path)
		switch {
		case err != nil && inFlight && errors.Is(err, os.ErrNotExist) && db.fileDropped(ctx, rel):
			// Retention removed it after the snapshot.
		case err != nil:
			report(&CorruptError{File: path, Offset: 0, Reason: "data file in the index cannot be opened", Err: err})
		case fi.Size() > f.Length && inFlight:
			// A block being appended: the writer commits or cuts it.
			db.checkFileHeader(path, rel, report)
		case fi.Size() > f.Length:
			report(corruptf(path, f.Length, "%d bytes past the committed length %d", fi.Size()-f.Length, f.Length))
		case fi.Size() < f.Length:
			report(corruptf(path, fi.Size(), "file is %d bytes, committed length is %d", fi.Size(), f.Length))
		default:
			db.checkFileHeader(path, rel, report)
		}
	}
	db.checkStrayFiles(files, inFlight, report)
}

// fileDropped reports whether rel's file entry has left the index since the
// snapshot Check works on.
func (db *DB) fileDropped(ctx context.Context, rel string) bool {
	now, err := db.fileEntries(ctx)
	if err != nil {
		return false
	}
	_, ok := now[rel]
	return !ok
}

func (db *DB) checkFileHeader(path, rel string, report func(error)) {
	f, err := os.Open(path)
	if err != nil {
		report(fmt.Errorf("columnar: check %s: %w", path, err))
		return
	}
	defer f.Close()
	var buf [fileHeaderLen]byte
	var h fileHeader
	if _, err := f.ReadAt(buf[:], 0); err != nil {
		report(&CorruptError{File: path, Offset: 0, Reason: "reading file header", Err: err})
	} else if _, err := h.Unmarshal(buf[:]); err != nil {
		report(&CorruptError{File: path, Offset: 0, Reason: err.Error(), Err: unwrapVersion(err)})
	} else if want := filepath.Base(rel); dayFileName(h.Day) != want {
		report(corruptf(path, 8, "header is for day %s, file name says %s", dayFileName(h.Day), want))
	}
}

// checkStrayFiles reports files in the data folder the index does not know.
// With inFlight, *.tmp files and day files without an entry are a writer's
// new data file awaiting its first commit, and are not reported.
func (db *DB) checkStrayFiles(files map[string]fileEntry, inFlight bool, report func(error)) {
	dataDir := filepath.Join(db.dir, DataDirName)
	dirs, err := os.ReadDir(dataDir)
	if err != nil {
		report(fmt.Errorf("columnar: check: %w", err))
		return
	}
	for _, d := range dirs {
		if !d.IsDir() {
			report(corruptf(filepath.Join(dataDir, d.Name()), -1, "unexpected file in the data folder"))
			continue
		}
		if _, err := UnescapeIface(d.Name()); err != nil {
			report(corruptf(filepath.Join(dataDir, d.Name()), -1, "unexpected folder: %v", err))
		}
		entries, err := os.ReadDir(filepath.Join(dataDir, d.Name()))
		if err != nil {
			report(fmt.Errorf("columnar: check: %w", err))
			continue
		}
		for _, e := range entries {
			rel := filepath.Join(DataDirName, d.Name(), e.Name())
			if _, ok := files[rel]; !ok {
				if _, isDay := parseDayFileName(e.Name()); inFlight && (isDay || strings.HasSuffix(e.Name(), TmpSuffix)) {
					continue
				}
				what := "data file without an index entry"
				if strings.HasSuffix(e.Name(), TmpSuffix) {
					what = "leftover temporary file"
				}
				report(corruptf(filepath.Join(db.dir, rel), -1, "%s", what))
			}
		}
	}
}

// checkBlock decodes every chunk of a block twice (store decoder and
// arrow-go) and compares the data with the entry.
func (db *DB) checkBlock(ctx context.Context, m *BlockMeta, mem memory.Allocator) error {
	if m.Rows == 0 {
		return nil
	}
	cols := make(map[ColumnID]*Column, NumColumns)
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	dec, err := db.decs.get()
	if err != nil {
		return err
	}
	defer db.decs.put(dec)
	for _, ref := range m.Chunks {
		if err := db.checkChunk(ctx, m, &ref, dec, mem); err != nil {
			return err
		}
	}
	for _, id := range Columns() {
		c, err := db.ReadColumn(ctx, m, id, mem)
		if err != nil {
			return err
		}
		cols[id] = c
		if c.Len() != m.Rows {
			return corruptf(db.chunkPath(m), -1, "block %q@%d: %s has %d rows, entry says %d", m.Iface, m.Start, id, c.Len(), m.Rows)
		}
	}
	return checkStats(db.chunkPath(m), m, cols)
}

// checkChunk decodes one chunk with both decoders and compares them.
func (db *DB) checkChunk(ctx context.Context, m *BlockMeta, ref *ChunkRef, dec *decompressors, mem memory.Allocator) error {
	buf, err := db.readFrame(ctx, m, ref, mem)
	if err != nil {
		return err
	}
	defer buf.Release()
	path := db.chunkPath(m)
	fast, err := decodeChunk(path, ref, m.Start, buf, dec, mem)
	if err != nil {
		return err
	}
	defer fast.Release()
	ref2, err := decodeChunkArrow(path, ref, m.Start, buf, mem)
	if err != nil {
		return err
	}
	defer ref2.Release()
	if !array.Equal(fast, ref2) {
		return corruptf(path, ref.Offset, "chunk %s %s: store decoder and arrow-go disagree", ref.Column, ref.Part)
	}
	return nil
}

// checkStats recomputes a block's statistics from its columns.
func checkStats(path string, m *BlockMeta, cols map[ColumnID]*Column) error {
	bad := func(format string, args ...any) error {
		return corruptf(path, -1, "block %q@%d: "+format, append([]any{m.Iface, m.Start}, args...)...)
	}
	for _, id := range []ColumnID{ColSIP, ColDIP} {
		d := cols[id].Dict
		want := m.SIPDistinct
		if id == ColDIP {
			want = m.DIPDistinct
		}
		if d.Len() != want {
			return bad("%s dictionary has %d addresses, entry says %d", id, d.Len(), want)
		}
		for i := 1; i < d.Len(); i++ {
			a, b := d.At(i-1), d.At(i)
			if compareAddr(&a, &b) >= 0 {
				return bad("%s dictionary not sorted and distinct at code %d", id, i)
			}
		}
		if err := checkDictParts(m, id, d); err != nil {
			return bad("%v", err)
		}
	}
	vals := func(id ColumnID) []uint64 { return cols[id].AppendUint64s(nil) }
	sip, dip := vals(ColSIP), vals(ColDIP)
	if m.Flags&FlagSorted != 0 {
		for i := 1; i < len(sip); i++ {
			if sip[i] < sip[i-1] || sip[i] == sip[i-1] && dip[i] < dip[i-1] {
				return bad("rows not sorted by (sip, dip) at row %d", i)
			}
		}
	}
	dport, proto := vals(ColDPort), vals(ColProto)
	if m.Flags&FlagDistinct != 0 {
		if r, ok := repeatedFlow(sip, dip, dport, proto); !ok {
			return bad("flags say each flow once, but row %d repeats (sip, dip, dport, proto)", r)
		}
	}
	if lo, hi := slices.Min(dport), slices.Max(dport); lo != uint64(m.MinDPort) || hi != uint64(m.MaxDPort) {
		return bad("dport range [%d, %d], entry says [%d, %d]", lo, hi, m.MinDPort, m.MaxDPort)
	}
	if lo, hi := slices.Min(proto), slices.Max(proto); lo != uint64(m.MinProto) || hi != uint64(m.MaxProto) {
		return bad("proto range [%d, %d], entry says [%d, %d]", lo, hi, m.MinProto, m.MaxProto)
	}
	totals := []struct {
		id   ColumnID
		want uint64
	}{{ColBytesIn, m.BytesIn}, {ColBytesOut, m.BytesOut}, {ColPacketsIn, m.PacketsIn}, {ColPacketsOut, m.PacketsOut}}
	for _, t := range totals {
		if got := sum(vals(t.id)); got != t.want {
			return bad("%s totals %d, entry says %d", t.id, got, t.want)
		}
	}
	for _, id := range Columns() {
		if e := encodingOf(cols[id].Values); !e.IsValid() {
			return bad("%s has unexpected type %s", id, cols[id].Values.DataType())
		}
	}
	return nil
}

func encodingOf(a arrow.Array) Encoding {
	switch a.(type) {
	case *array.Uint8:
		return EncUint8
	case *array.Uint16:
		return EncUint16
	case *array.Uint32:
		return EncUint32
	case *array.Uint64:
		return EncUint64
	}
	return 0
}

// repeatedFlow finds a row repeating an earlier row's (sip, dip, dport,
// proto); it returns ok when there is none.
func repeatedFlow(sip, dip, dport, proto []uint64) (row int, ok bool) {
	type flow struct{ sip, dip, port uint64 }
	seen := make(map[flow]struct{}, len(sip))
	for i := range sip {
		f := flow{sip[i], dip[i], dport[i]<<8 | proto[i]}
		if _, dup := seen[f]; dup {
			return i, false
		}
		seen[f] = struct{}{}
	}
	return 0, true
}
