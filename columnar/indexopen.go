package columnar

// Index sessions (FORMAT.md "Writer and readers"). bbolt locks index.db with
// flock for as long as it is open: exclusively when read-write, shared when
// read-only. A DB that kept it open would shut every other process out, so
// no DB does: each operation opens the index, runs one transaction and
// closes it.
//
//	reads (Blocks, Summary, Check, Write's collision check): read-only open,
//	    shared lock; readers never wait for each other
//	commits (Write, Retain): read-write open, exclusive lock, held for one
//	    transaction (a few ms with its fsync)
//
// An open that finds the lock taken retries with a short back-off until
// Options.LockTimeout or ctx ends. Within one DB, an RWMutex orders its own
// sessions so they queue instead of polling.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

const (
	// lockPauseMin and lockPauseMax bound the back-off between attempts to
	// lock index.db.
	lockPauseMin = 500 * time.Microsecond
	lockPauseMax = 20 * time.Millisecond
)

// openNoCreate opens an existing file: a session must never create an empty
// index in place of a missing one.
func openNoCreate(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag&^os.O_CREATE, perm)
}

// openIndex opens index.db for one session, read-write if write.
func (db *DB) openIndex(ctx context.Context, write bool) (*bolt.DB, error) {
	path := db.indexPath()
	opts := &bolt.Options{
		// One attempt per bolt.Open: this loop waits, so it can honour ctx
		// and poll faster than bbolt's fixed 50 ms.
		Timeout:      time.Nanosecond,
		ReadOnly:     !write,
		NoSync:       db.opts.NoSync,
		FreelistType: bolt.FreelistMapType,
		OpenFile:     openNoCreate,
	}
	deadline := time.Now().Add(db.opts.LockTimeout)
	pause := lockPauseMin
	for {
		b, err := bolt.Open(path, 0o644, opts)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, berrors.ErrTimeout) {
			return nil, db.indexOpenError(err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("columnar: open %s: index is locked by another process (waited %v): %w", path, db.opts.LockTimeout, err)
		}
		t := time.NewTimer(min(pause, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("columnar: open %s: waiting for the index lock: %w", path, ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, lockPauseMax)
	}
}

func (db *DB) indexOpenError(err error) error {
	path := db.indexPath()
	switch {
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return &CorruptError{File: path, Offset: 0, Reason: "index.db is not a readable bbolt database", Err: err}
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("columnar: open index %s: index.db is missing: %w", path, err)
	}
	return fmt.Errorf("columnar: open index %s: %w", path, err)
}

// view runs fn in a read transaction of a read-only session. bbolt panics on
// some damaged pages; the panic becomes a *CorruptError naming the index.
func (db *DB) view(ctx context.Context, fn func(*bolt.Tx) error) (err error) {
	db.imu.RLock()
	defer db.imu.RUnlock()
	b, err := db.openIndex(ctx, false)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := b.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("columnar: close index: %w", cerr)
		}
	}()
	defer db.recoverIndexPanic(&err)
	return b.View(fn)
}

// update runs fn in a write transaction of a read-write session, with the
// same panic net as view. Once the transaction committed, update returns
// nil even if closing the session fails: the commit stands, and the lock
// goes with the file descriptor.
func (db *DB) update(ctx context.Context, fn func(*bolt.Tx) error) (err error) {
	db.imu.Lock()
	defer db.imu.Unlock()
	b, err := db.openIndex(ctx, true)
	if err != nil {
		return err
	}
	defer func() { _ = b.Close() }()
	defer db.recoverIndexPanic(&err)
	return b.Update(fn)
}

func (db *DB) recoverIndexPanic(err *error) {
	if r := recover(); r != nil {
		*err = &CorruptError{File: db.indexPath(), Offset: -1, Reason: fmt.Sprintf("index access panicked: %v", r)}
	}
}

// initIndex checks the index of an existing store. A read-only DB requires
// one (else ErrNoStore); a read-write DB, holding the writer lock, creates
// it if missing and fills an empty one.
func (db *DB) initIndex(ctx context.Context) error {
	path := db.indexPath()
	fi, err := os.Stat(path)
	switch {
	case db.opts.ReadOnly && errors.Is(err, os.ErrNotExist):
		return noStoreError(db.dir, "no "+IndexFileName)
	case db.opts.ReadOnly && err == nil && fi.Size() == 0:
		return noStoreError(db.dir, IndexFileName+" is empty")
	case errors.Is(err, os.ErrNotExist):
		return db.createIndex()
	case err != nil:
		return fmt.Errorf("columnar: open %s: %w", db.dir, err)
	}
	var fresh bool
	if fi.Size() > 0 {
		err = db.view(ctx, func(tx *bolt.Tx) error {
			var err error
			fresh, err = db.checkIndexShape(tx)
			return err
		})
		if err != nil {
			return err
		}
	}
	switch {
	case fi.Size() > 0 && !fresh:
		return nil
	case db.opts.ReadOnly:
		return noStoreError(db.dir, IndexFileName+" is empty")
	}
	// An empty index.db (left by an older build): fill it in place.
	return db.update(ctx, func(tx *bolt.Tx) error {
		if fresh, err := db.checkIndexShape(tx); err != nil || !fresh {
			return err
		}
		return createBuckets(tx)
	})
}

// createIndex makes a new index as index.db.tmp, fills it, makes it
// durable and renames it into place, so readers find either no index or a
// complete one. REQUIRES: writer lock held.
func (db *DB) createIndex() error {
	path := db.indexPath()
	tmp := path + TmpSuffix
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("columnar: create index: %w", err)
	}
	b, err := bolt.Open(tmp, 0o644, &bolt.Options{NoSync: db.opts.NoSync, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("columnar: create index %s: %w", tmp, err)
	}
	err = b.Update(createBuckets)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = db.syncDir(db.dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("columnar: create index %s: %w", path, err)
	}
	return nil
}

// checkStoreDir tells a read-only Open that dir is not a store folder.
func checkStoreDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return noStoreError(dir, "the folder does not exist")
	case err != nil:
		return fmt.Errorf("columnar: open %s read-only: %w", dir, err)
	case !fi.IsDir():
		return noStoreError(dir, "not a folder")
	}
	return nil
}
