package columnar

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// recover repairs the data folder after an interrupted write or retention
// run (FORMAT.md "Recovery"): *.tmp files are removed, data files without a
// file entry in the index are removed, and data files longer than their
// committed length are truncated to it. Files shorter than committed are
// left for Check to report: their blocks read as corrupt.
// REQUIRES: writer lock held (readers in other processes may be reading:
// they only ever read committed bytes of indexed files).
func (db *DB) recover(ctx context.Context) error {
	committed, err := db.fileEntries(ctx)
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
			fe, known := committed[rel]
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
				if fi.Size() <= fe.Length {
					continue
				}
				if err := db.truncateFile(path, fe.Length); err != nil {
					return err
				}
				rep.TruncatedFiles = append(rep.TruncatedFiles, rel)
				rep.TruncatedBytes += fi.Size() - fe.Length
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
