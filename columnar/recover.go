package columnar

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// recover repairs the data folder after an interrupted write or retention
// run (FORMAT.md "Recovery"): *.tmp files are removed, data files without a
// file entry in the index are removed, and data files longer than their
// committed length are truncated to it. Files shorter than committed are
// left for Check to report: their blocks read as corrupt.
func (db *DB) recover(ctx context.Context) error {
	committed := make(map[string]int64)
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFiles).ForEachBucket(func(iface []byte) error {
			b := tx.Bucket(bucketFiles).Bucket(iface)
			return b.ForEach(func(k, v []byte) error {
				var f fileEntry
				if len(k) != 4 {
					return &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("files/%q: key of %d bytes, want 4", iface, len(k))}
				}
				day := binary.BigEndian.Uint32(k)
				if err := f.Unmarshal(v); err != nil {
					return &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("files/%q/%d: %v", iface, day, err), Err: unwrapVersion(err)}
				}
				committed[dataFileRel(string(iface), day)] = f.Length
				return nil
			})
		})
	})
	if err != nil {
		return fmt.Errorf("columnar: recover %s: %w", db.dir, err)
	}
	dataDir := filepath.Join(db.dir, DataDirName)
	ifaces, err := os.ReadDir(dataDir)
	if err != nil {
		return fmt.Errorf("columnar: recover: %w", err)
	}
	rep := &db.recovered
	for _, d := range ifaces {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("columnar: recover: %w", err)
		}
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(dataDir, d.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("columnar: recover: %w", err)
		}
		changed := false
		for _, e := range entries {
			rel := filepath.Join(DataDirName, d.Name(), e.Name())
			path := filepath.Join(db.dir, rel)
			_, isDay := parseDayFileName(e.Name())
			length, known := committed[rel]
			switch {
			case e.IsDir():
				continue
			case strings.HasSuffix(e.Name(), TmpSuffix), isDay && !known:
				if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("columnar: recover: %w", err)
				}
				rep.RemovedFiles = append(rep.RemovedFiles, rel)
				changed = true
			case isDay:
				fi, err := e.Info()
				if err != nil {
					return fmt.Errorf("columnar: recover: %w", err)
				}
				if fi.Size() <= length {
					continue
				}
				if err := db.truncateFile(path, length); err != nil {
					return err
				}
				rep.TruncatedFiles = append(rep.TruncatedFiles, rel)
				rep.TruncatedBytes += fi.Size() - length
			}
		}
		if changed {
			if err := db.syncDir(dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// truncateFile cuts a data file to size and makes that durable.
func (db *DB) truncateFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("columnar: recover: %w", err)
	}
	err = f.Truncate(size)
	if err == nil && !db.opts.NoSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("columnar: recover: truncate %s to %d: %w", path, size, err)
	}
	return nil
}
