package columnar

// Write path. A block becomes ten chunk frames appended to the data file of
// its interface and UTC day, then one index entry:
//
//	data/<iface>/<YYYYMMDD>.fsc
//	┌──────────────┬─────────────────┬─────────────────┬─────┬───────────────────┐
//	│ header <16b> │ frame: sip_dict │ frame: sip      │ ... │ frame: packets_out│
//	└──────────────┴─────────────────┴─────────────────┴─────┴───────────────────┘
//	frame = header <32b> | Arrow IPC stream (schema, 1 record batch, EOS) | pad to 8
//
// The stages run in order, enforced by blockWriter.advance: validate ->
// check index -> encode columns -> append -> fsync -> commit index. The
// index entry is the commit point; see FORMAT.md "Commit protocol".

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowsql/flowsql/internal/invariants"
	bolt "go.etcd.io/bbolt"
)

// writeStage is the progress of one block write.
type writeStage uint8

const (
	stageNew       writeStage = iota
	stageChecked              // block valid, no stored block collides
	stageEncoded              // chunk frames built in memory
	stageAppended             // frames written to the data file
	stageSynced               // data file fsynced
	stageCommitted            // index entry committed: the block exists
)

var stageNames = [...]string{"new", "checked", "encoded", "appended", "synced", "committed"}

func (s writeStage) String() string { return stageNames[s] }

// blockWriter carries one Write through its stages.
// REQUIRES: db.wmu held for its whole life.
type blockWriter struct {
	db    *DB
	b     *Block
	stage writeStage

	day     uint32
	rel     string    // data file, relative to db.dir
	file    fileEntry // committed state of the data file before this block
	hasFile bool      // file entry exists
	h       *fileHandle
}

// advance moves to stage to, which must be the next one.
func (w *blockWriter) advance(to writeStage) error {
	if to != w.stage+1 {
		return fmt.Errorf("%w: block %q@%d: %s -> %s", ErrStage, w.b.Iface, w.b.Start, w.stage, to)
	}
	w.stage = to
	return nil
}

// Write stores a block. It fails with ErrInvalidBlock for a malformed block,
// ErrBlockExists if a block of the same interface and start is stored, and
// ErrBlockOverlap if its time range overlaps a stored block of the
// interface. Blocks of an interface may arrive in any time order. When Write
// returns nil the block is durable (unless Options.NoSync); when it returns
// an error the block is not stored. Write does not keep b.
func (db *DB) Write(ctx context.Context, b *Block) error {
	if err := validateBlock(b); err != nil {
		return err
	}
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if err := db.checkOpen(); err != nil {
		return err
	}
	w := blockWriter{db: db, b: b, day: dayOf(b.Start)}
	w.rel = dataFileRel(b.Iface, w.day)
	err := w.run(ctx)
	if w.h != nil {
		db.files.release(w.h)
	}
	return err
}

func (w *blockWriter) run(ctx context.Context) error {
	db, m := w.db, &w.db.wmu.meta
	if err := w.checkIndex(ctx); err != nil {
		return err
	}
	if err := w.encode(ctx); err != nil {
		return err
	}
	if m.Rows > 0 {
		if err := w.append(ctx); err != nil {
			return err
		}
		if err := w.sync(); err != nil {
			w.rollback()
			return err
		}
		if hook := db.opts.FailAfterDataSync; hook != nil {
			if err := hook(w.b.Iface, w.b.Start); err != nil {
				return err // leave the bytes, as a crash would
			}
		}
	} else {
		// An empty block has no chunks: only its index entry is written.
		if err := w.advance(stageAppended); err != nil {
			return err
		}
		if err := w.advance(stageSynced); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		w.rollback()
		return fmt.Errorf("columnar: write %q@%d: %w", w.b.Iface, w.b.Start, err)
	}
	if err := w.commit(ctx); err != nil {
		w.rollback()
		return err
	}
	return nil
}

// checkIndex rejects a block that collides with a stored one and reads the
// data file's committed length.
func (w *blockWriter) checkIndex(ctx context.Context) error {
	err := w.db.view(ctx, func(tx *bolt.Tx) error {
		if err := checkNeighbours(tx, w.b); err != nil {
			return err
		}
		var err error
		w.file, w.hasFile, err = w.db.getFileEntry(tx, w.b.Iface, w.day)
		return err
	})
	if err != nil {
		return err
	}
	return w.advance(stageChecked)
}

// checkNeighbours fails if b's (iface, start) exists or its range overlaps
// the stored blocks before or after it.
func checkNeighbours(tx *bolt.Tx, b *Block) error {
	var m BlockMeta
	pk, pv, nk, nv := neighbours(tx, b.Iface, b.Start)
	if nk != nil {
		if err := m.Unmarshal(nv); err != nil {
			return fmt.Errorf("columnar: write %q@%d: next block entry: %w", b.Iface, b.Start, err)
		}
		if m.Start == b.Start {
			return fmt.Errorf("%w: iface %q start %d", ErrBlockExists, b.Iface, b.Start)
		}
		if m.Start < b.End {
			return fmt.Errorf("%w: iface %q block [%d, %d) overlaps stored [%d, %d)", ErrBlockOverlap, b.Iface, b.Start, b.End, m.Start, m.End)
		}
	}
	if pk != nil {
		if err := m.Unmarshal(pv); err != nil {
			return fmt.Errorf("columnar: write %q@%d: previous block entry: %w", b.Iface, b.Start, err)
		}
		if m.End > b.Start {
			return fmt.Errorf("%w: iface %q block [%d, %d) overlaps stored [%d, %d)", ErrBlockOverlap, b.Iface, b.Start, b.End, m.Start, m.End)
		}
	}
	return nil
}

// encode builds every chunk frame of the block into wmu.buf, with offsets
// as if appended at the file's committed length.
func (w *blockWriter) encode(ctx context.Context) error {
	db := w.db
	enc, m := &db.wmu.enc, &db.wmu.meta
	enc.encodeBlock(w.b, m)
	buf := db.wmu.buf[:0]
	base := int64(fileHeaderLen)
	if w.hasFile {
		base = w.file.Length
	}
	if m.Rows > 0 {
		for _, cp := range chunkOrder {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("columnar: write %q@%d: %w", w.b.Iface, w.b.Start, err)
			}
			e, n, data := enc.column(w.b, cp.col, cp.part)
			if n == 0 && cp.part.IsDict() {
				continue // an empty dictionary part has no chunk
			}
			per := n
			if cp.part == PartValues && db.opts.PageRows > 0 && db.paged&(1<<cp.col) != 0 {
				per = max(db.opts.PageRows, (n+maxPagesPerPart-1)/maxPagesPerPart)
			}
			for p0 := 0; p0 < n; p0 += per {
				p1 := min(p0+per, n)
				pd := data
				if p1-p0 < n {
					pd = enc.page(e, data, n, p0, p1)
				}
				h := frameHeader{Version: FormatVersion, Column: cp.col, Part: cp.part, Encoding: e,
					Codec: db.codecs.codecFor(cp.col, cp.part), Rows: uint32(p1 - p0), Start: w.b.Start}
				off := int64(len(buf))
				var err error
				if buf, err = db.wmu.cw.appendChunk(buf, &h, pd); err != nil {
					return fmt.Errorf("columnar: write %q@%d: %w", w.b.Iface, w.b.Start, err)
				}
				m.Chunks = append(m.Chunks, ChunkRef{Column: cp.col, Part: cp.part, Encoding: e, Codec: h.Codec,
					Rows: p1 - p0, Offset: base + off, Length: frameHeaderLen + int64(h.Length), CRC: h.CRC})
			}
		}
	}
	db.wmu.buf = buf
	if invariants.Enabled && m.Rows > 0 {
		if last := m.Chunks[len(m.Chunks)-1]; align8(last.Offset+last.Length) != base+int64(len(buf)) {
			return invariants.AssertionFailedf("chunks end at %d, buffer at %d", align8(last.Offset+last.Length), base+int64(len(buf)))
		}
	}
	return w.advance(stageEncoded)
}

// chunkOrder is the storage order of a block's chunks (version 3: sip
// codes as runs; version 2 stored them as values). The two
// parts of a dictionary are adjacent.
var chunkOrder = [maxChunksPerBlock]struct {
	col  ColumnID
	part Part
}{
	{ColSIP, PartDict4}, {ColSIP, PartDict}, {ColSIP, PartRuns},
	{ColDIP, PartDict4}, {ColDIP, PartDict}, {ColDIP, PartValues},
	{ColDPort, PartValues}, {ColProto, PartValues}, {ColBytesIn, PartValues},
	{ColBytesOut, PartValues}, {ColPacketsIn, PartValues}, {ColPacketsOut, PartValues},
}

// append writes the frames at the file's committed length, creating the
// file (crash-safely) if needed and cutting off bytes of an earlier failed
// write.
func (w *blockWriter) append(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("columnar: write %q@%d: %w", w.b.Iface, w.b.Start, err)
	}
	var err error
	if w.hasFile {
		w.h, err = w.db.files.acquire(w.rel)
	} else {
		w.h, err = w.db.createDataFile(w.b.Iface, w.day)
		w.file = fileEntry{Length: fileHeaderLen}
	}
	if err != nil {
		return fmt.Errorf("columnar: write %q@%d: data file: %w", w.b.Iface, w.b.Start, err)
	}
	if fi, err := w.h.f.Stat(); err != nil {
		return fmt.Errorf("columnar: write %q@%d: %w", w.b.Iface, w.b.Start, err)
	} else if fi.Size() < w.file.Length {
		return corruptf(w.h.f.Name(), fi.Size(), "data file is %d bytes, index committed %d", fi.Size(), w.file.Length)
	} else if fi.Size() > w.file.Length {
		if err := w.h.f.Truncate(w.file.Length); err != nil {
			return fmt.Errorf("columnar: write %q@%d: cut uncommitted bytes: %w", w.b.Iface, w.b.Start, err)
		}
	}
	if _, err := w.h.f.WriteAt(w.db.wmu.buf, w.file.Length); err != nil {
		w.rollback()
		return fmt.Errorf("columnar: write %q@%d: append to %s: %w", w.b.Iface, w.b.Start, w.rel, err)
	}
	return w.advance(stageAppended)
}

func (w *blockWriter) sync() error {
	if !w.db.opts.NoSync {
		if err := w.h.f.Sync(); err != nil {
			return fmt.Errorf("columnar: write %q@%d: fsync %s: %w", w.b.Iface, w.b.Start, w.rel, err)
		}
	}
	return w.advance(stageSynced)
}

// commit writes the block entry and the file's new length in one bbolt
// transaction: the commit point.
func (w *blockWriter) commit(ctx context.Context) error {
	db, m := w.db, &w.db.wmu.meta
	db.wmu.val = m.AppendTo(db.wmu.val[:0])
	err := db.update(ctx, func(tx *bolt.Tx) error {
		if err := checkNeighbours(tx, w.b); err != nil {
			return err
		}
		if err := raiseIndexVersion(tx); err != nil {
			return err
		}
		blocks, err := tx.Bucket(bucketBlocks).CreateBucketIfNotExists([]byte(w.b.Iface))
		if err != nil {
			return err
		}
		if err := blocks.Put(appendBlockKey(nil, w.b.Start), db.wmu.val); err != nil {
			return err
		}
		if m.Rows == 0 {
			return nil
		}
		files, err := tx.Bucket(bucketFiles).CreateBucketIfNotExists([]byte(w.b.Iface))
		if err != nil {
			return err
		}
		fe := fileEntry{Length: w.file.Length + int64(len(db.wmu.buf)), Blocks: w.file.Blocks + 1}
		return files.Put(appendFileKey(nil, w.day), fe.AppendTo(nil))
	})
	if err != nil {
		return fmt.Errorf("columnar: write %q@%d: commit index: %w", w.b.Iface, w.b.Start, err)
	}
	return w.advance(stageCommitted)
}

// raiseIndexVersion sets meta/version to FormatVersion when the index was
// created by an older build: from the first block this build commits, the
// store holds entries that older builds cannot read, and they then refuse
// the whole store at Open instead of skipping entries as damaged.
// REQUIRES: tx writable.
func raiseIndexVersion(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keyVersion); len(v) == 4 && binary.BigEndian.Uint32(v) >= FormatVersion {
		return nil
	}
	return meta.Put(keyVersion, binary.BigEndian.AppendUint32(nil, FormatVersion))
}

// rollback cuts the data file back to its committed length after a failed
// write (best effort: Open does the same after a crash).
func (w *blockWriter) rollback() {
	if w.h != nil && w.stage >= stageEncoded && w.stage < stageCommitted {
		_ = w.h.f.Truncate(w.file.Length)
	}
}

// createDataFile creates data/<iface>/<day>.fsc with its header: written to
// a .tmp file, fsynced, renamed, and the folder fsynced, so a data file
// always has a complete header.
func (db *DB) createDataFile(iface string, day uint32) (*fileHandle, error) {
	rel := dataFileRel(iface, day)
	path := filepath.Join(db.dir, rel)
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := db.syncDir(filepath.Dir(dir)); err != nil {
			return nil, err
		}
	}
	tmp := path + TmpSuffix
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	hdr := fileHeader{Version: FormatVersion, Day: day}
	_, err = f.Write(hdr.AppendTo(nil))
	if err == nil && !db.opts.NoSync {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = db.syncDir(dir)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return nil, err
	}
	return db.files.adopt(rel, f), nil
}
