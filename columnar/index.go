package columnar

import (
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

// initIndex creates the top-level buckets of a new index, or checks the
// version and shape of an existing one.
func (db *DB) initIndex() error {
	check := func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		v := meta.Get(keyVersion)
		if len(v) != 4 {
			return &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("meta/version is %d bytes, want 4", len(v))}
		}
		if ver := binary.BigEndian.Uint32(v); !supportedVersion(ver) {
			return &CorruptError{File: db.indexPath(), Offset: -1,
				Reason: fmt.Sprintf("index format version %d (this build reads %d)", ver, FormatVersion), Err: ErrUnsupportedVersion}
		}
		if tx.Bucket(bucketBlocks) == nil || tx.Bucket(bucketFiles) == nil {
			return &CorruptError{File: db.indexPath(), Offset: -1, Reason: "index lacks the blocks or files bucket"}
		}
		return nil
	}
	var fresh bool
	err := db.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			fresh = true
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return &CorruptError{File: db.indexPath(), Offset: -1, Reason: "index.db holds buckets but no flowsql meta bucket: not a flowsql index"}
			}
			return nil
		}
		return check(tx)
	})
	if err != nil || !fresh {
		return err
	}
	if db.opts.ReadOnly {
		return fmt.Errorf("columnar: open %s read-only: index is empty", db.dir)
	}
	return db.update(func(tx *bolt.Tx) error {
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
	})
}

// view runs fn in a read transaction. bbolt panics on some damaged pages; the
// panic becomes a *CorruptError naming the index.
func (db *DB) view(fn func(*bolt.Tx) error) (err error) {
	defer db.recoverIndexPanic(&err)
	return db.bolt.View(fn)
}

// update runs fn in a write transaction, with the same panic net as view.
func (db *DB) update(fn func(*bolt.Tx) error) (err error) {
	defer db.recoverIndexPanic(&err)
	return db.bolt.Update(fn)
}

func (db *DB) recoverIndexPanic(err *error) {
	if r := recover(); r != nil {
		*err = &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("index access panicked: %v", r)}
	}
}

// decodeBlock decodes a block entry found under blocks/<iface>/<key>.
func (db *DB) decodeBlock(iface string, key, val []byte, m *BlockMeta) error {
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
		m.File = dataFileRel(iface, dayOf(start))
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
