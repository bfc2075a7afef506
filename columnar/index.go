package columnar

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// bbolt layout (FORMAT.md "Index"):
//
//	meta/version            -> uint32 BE FormatVersion
//	blocks/<iface>/<start>  -> block entry (BlockMeta.AppendTo); start is uint64 BE
//	files/<iface>/<day>     -> file entry (fileEntry.AppendTo); day is uint32 BE
//
// <iface> is a nested bucket named by the raw interface name.
var (
	bucketMeta   = []byte("meta")
	bucketBlocks = []byte("blocks")
	bucketFiles  = []byte("files")
	keyVersion   = []byte("version")
)

// appendBlockKey appends the key of a block: its start as big-endian
// uint64, so keys sort by time. REQUIRES: start >= 0.
func appendBlockKey(dst []byte, start int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(start))
}

// appendFileKey appends the key of a data file: its UTC day as big-endian
// uint32.
func appendFileKey(dst []byte, day uint32) []byte {
	return binary.BigEndian.AppendUint32(dst, day)
}

// indexPath names the index file in errors.
func (db *DB) indexPath() string { return filepath.Join(db.dir, IndexFileName) }

// checkIndexShape checks the version and top-level buckets of an index;
// fresh is true when it holds no bucket at all (a new, empty bbolt file).
func (db *DB) checkIndexShape(tx *bolt.Tx) (fresh bool, err error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if !empty {
			return false, &CorruptError{File: db.indexPath(), Offset: -1, Reason: "index.db holds buckets but no flowsql meta bucket: not a flowsql index"}
		}
		return true, nil
	}
	v := meta.Get(keyVersion)
	if len(v) != 4 {
		return false, &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("meta/version is %d bytes, want 4", len(v))}
	}
	if ver := binary.BigEndian.Uint32(v); !supportedVersion(ver) {
		return false, &CorruptError{File: db.indexPath(), Offset: -1,
			Reason: fmt.Sprintf("index format version %d (this build reads %d..%d)", ver, minFormatVersion, FormatVersion), Err: ErrUnsupportedVersion}
	}
	if tx.Bucket(bucketBlocks) == nil || tx.Bucket(bucketFiles) == nil {
		return false, &CorruptError{File: db.indexPath(), Offset: -1, Reason: "index lacks the blocks or files bucket"}
	}
	return false, nil
}

// createBuckets fills a fresh index: meta/version and the empty blocks and
// files buckets.
func createBuckets(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	if err := meta.Put(keyVersion, binary.BigEndian.AppendUint32(nil, FormatVersion)); err != nil {
		return err
	}
	for _, name := range [][]byte{bucketBlocks, bucketFiles} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// fileEntries reads every file entry, by data file path relative to the
// folder.
func (db *DB) fileEntries(ctx context.Context) (map[string]fileEntry, error) {
	out := make(map[string]fileEntry)
	err := db.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFiles).ForEachBucket(func(iface []byte) error {
			return tx.Bucket(bucketFiles).Bucket(iface).ForEach(func(k, v []byte) error {
				var f fileEntry
				if len(k) != 4 {
					return &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("files/%q: key of %d bytes, want 4", iface, len(k))}
				}
				day := binary.BigEndian.Uint32(k)
				if err := f.Unmarshal(v); err != nil {
					return &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("files/%q/%d: %v", iface, day, err), Err: unwrapVersion(err)}
				}
				out[dataFileRel(string(iface), day)] = f
				return nil
			})
		})
	})
	return out, err
}

// decodeBlock decodes a block entry found under blocks/<iface>/<key>.
func (db *DB) decodeBlock(iface string, key, val []byte, m *BlockMeta) error {
	return db.decodeBlockMemo(iface, key, val, m, nil)
}

// fileMemo remembers the last data file name made, for a run of blocks
// of one interface and day.
type fileMemo struct {
	iface string
	day   uint32
	rel   string
}

// name returns dataFileRel(iface, day), made again only when either
// changes (a nil memo makes it every time).
func (f *fileMemo) name(iface string, day uint32) string {
	if f == nil {
		return dataFileRel(iface, day)
	}
	if f.rel == "" || f.iface != iface || f.day != day {
		f.iface, f.day, f.rel = iface, day, dataFileRel(iface, day)
	}
	return f.rel
}

// decodeBlockMemo is decodeBlock taking the file name from files.
func (db *DB) decodeBlockMemo(iface string, key, val []byte, m *BlockMeta, files *fileMemo) error {
	if len(key) != 8 {
		return &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("blocks/%q: key of %d bytes, want 8", iface, len(key))}
	}
	start := int64(binary.BigEndian.Uint64(key))
	if err := m.Unmarshal(val); err != nil {
		return &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("blocks/%q/%d: %v", iface, start, err), Err: unwrapVersion(err)}
	}
	if m.Start != start {
		return &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("blocks/%q/%d: entry says start %d", iface, start, m.Start)}
	}
	m.Iface = iface
	m.File = ""
	if len(m.Chunks) > 0 {
		m.File = files.name(iface, dayOf(start))
	}
	return nil
}

// getFileEntry reads files/<iface>/<day>; ok is false when absent.
func (db *DB) getFileEntry(tx *bolt.Tx, iface string, day uint32) (fileEntry, bool, error) {
	var f fileEntry
	b := tx.Bucket(bucketFiles).Bucket([]byte(iface))
	if b == nil {
		return f, false, nil
	}
	v := b.Get(appendFileKey(nil, day))
	if v == nil {
		return f, false, nil
	}
	if err := f.Unmarshal(v); err != nil {
		return f, false, &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("files/%q/%d: %v", iface, day, err), Err: unwrapVersion(err)}
	}
	return f, true, nil
}

// neighbours returns the entries of iface's blocks just before and at/after
// start, for overlap checks. The byte slices are valid for tx only.
func neighbours(tx *bolt.Tx, iface string, start int64) (prevKey, prevVal, nextKey, nextVal []byte) {
	b := tx.Bucket(bucketBlocks).Bucket([]byte(iface))
	if b == nil {
		return nil, nil, nil, nil
	}
	c := b.Cursor()
	nextKey, nextVal = c.Seek(appendBlockKey(nil, start))
	if nextKey == nil {
		prevKey, prevVal = c.Last()
	} else {
		prevKey, prevVal = c.Prev()
	}
	return prevKey, prevVal, nextKey, nextVal
}
