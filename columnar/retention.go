package columnar

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// RetentionPolicy says which data Retain drops. Whole UTC days go, across
// all interfaces, oldest first.
type RetentionPolicy struct {
	// MaxAge drops every day that ended at least MaxAge before Now. A day
	// still partly inside the window is kept. Zero means no age limit.
	MaxAge time.Duration
	// MaxBytes drops the oldest days while the data files total more than
	// MaxBytes. The newest day is never dropped by this rule: it is what the
	// probe is writing. The index file is not counted. Zero means no limit.
	MaxBytes int64
	// Now is the reference time; the zero value means time.Now().
	Now time.Time
}

// RetainReport says what Retain dropped and what is left.
type RetainReport struct {
	Days       []time.Time // UTC midnights of the dropped days, oldest first
	Blocks     int         // block entries dropped
	Files      int         // data files removed
	Bytes      int64       // bytes of data files removed
	Remaining  int64       // bytes of data files left
	OverBudget bool        // MaxBytes is still exceeded (by the newest day alone)
}

// dayUsage is what one UTC day holds across interfaces.
type dayUsage struct {
	day    uint32
	bytes  int64
	files  []string // "iface" of each file entry
	blocks int
}

// Retain applies a retention policy. It deletes the index entries of the
// dropped days in one transaction first, then their data files: a crash in
// between leaves only files without entries, which the next Open removes.
func (db *DB) Retain(ctx context.Context, p RetentionPolicy) (RetainReport, error) {
	var rep RetainReport
	if db.opts.ReadOnly {
		return rep, ErrReadOnly
	}
	if p.MaxAge < 0 || p.MaxBytes < 0 {
		return rep, fmt.Errorf("columnar: retain: negative policy: max age %v, max bytes %d", p.MaxAge, p.MaxBytes)
	}
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if err := db.checkOpen(); err != nil {
		return rep, err
	}
	usage, err := db.dayUsage(ctx)
	if err != nil {
		return rep, err
	}
	var total int64
	for _, u := range usage {
		total += u.bytes
	}
	var drop []dayUsage
	for i, u := range usage {
		tooOld := p.MaxAge > 0 && dayStart(u.day+1) <= p.Now.Add(-p.MaxAge).Unix()
		tooBig := p.MaxBytes > 0 && total > p.MaxBytes && i < len(usage)-1
		if !tooOld && !tooBig {
			break
		}
		drop = append(drop, u)
		total -= u.bytes
	}
	rep.Remaining = total
	rep.OverBudget = p.MaxBytes > 0 && total > p.MaxBytes
	if len(drop) == 0 {
		return rep, nil
	}
	if err := db.dropDays(ctx, drop, &rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// dayUsage lists the days that hold blocks or files, oldest first.
func (db *DB) dayUsage(ctx context.Context) ([]dayUsage, error) {
	days := make(map[uint32]*dayUsage)
	get := func(d uint32) *dayUsage {
		if days[d] == nil {
			days[d] = &dayUsage{day: d}
		}
		return days[d]
	}
	err := db.view(ctx, func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketBlocks).ForEachBucket(func(iface []byte) error {
			return tx.Bucket(bucketBlocks).Bucket(iface).ForEach(func(k, _ []byte) error {
				if len(k) != 8 {
					return corruptf(db.indexPath(), -1, "blocks/%q: key of %d bytes", iface, len(k))
				}
				get(dayOf(int64(binary.BigEndian.Uint64(k)))).blocks++
				return ctx.Err()
			})
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketFiles).ForEachBucket(func(iface []byte) error {
			return tx.Bucket(bucketFiles).Bucket(iface).ForEach(func(k, v []byte) error {
				var f fileEntry
				if len(k) != 4 {
					return corruptf(db.indexPath(), -1, "files/%q: key of %d bytes", iface, len(k))
				}
				if err := f.Unmarshal(v); err != nil {
					return corruptf(db.indexPath(), -1, "files/%q: %v", iface, err)
				}
				u := get(binary.BigEndian.Uint32(k))
				u.bytes += f.Length
				u.files = append(u.files, string(iface))
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("columnar: retain: %w", err)
	}
	out := make([]dayUsage, 0, len(days))
	for _, u := range days {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b dayUsage) int { return int(int64(a.day) - int64(b.day)) })
	return out, nil
}

// dropDays removes the index entries of the days, then their files.
// REQUIRES: db.wmu held.
func (db *DB) dropDays(ctx context.Context, drop []dayUsage, rep *RetainReport) error {
	err := db.update(ctx, func(tx *bolt.Tx) error {
		blocks := tx.Bucket(bucketBlocks)
		var ifaces [][]byte
		if err := blocks.ForEachBucket(func(k []byte) error { ifaces = append(ifaces, slices.Clone(k)); return nil }); err != nil {
			return err
		}
		for _, iface := range ifaces {
			b := blocks.Bucket(iface)
			var keys [][]byte
			for _, u := range drop {
				c := b.Cursor()
				end := appendBlockKey(nil, dayStart(u.day+1))
				for k, _ := c.Seek(appendBlockKey(nil, dayStart(u.day))); k != nil && string(k) < string(end); k, _ = c.Next() {
					keys = append(keys, slices.Clone(k))
				}
			}
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			rep.Blocks += len(keys)
			if k, _ := b.Cursor().First(); k == nil {
				if err := blocks.DeleteBucket(iface); err != nil {
					return err
				}
			}
		}
		files := tx.Bucket(bucketFiles)
		for _, u := range drop {
			for _, iface := range u.files {
				fb := files.Bucket([]byte(iface))
				if err := fb.Delete(appendFileKey(nil, u.day)); err != nil {
					return err
				}
				if k, _ := fb.Cursor().First(); k == nil {
					if err := files.DeleteBucket([]byte(iface)); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("columnar: retain: commit index: %w", err)
	}
	var errs []error
	dirs := make(map[string]bool)
	for _, u := range drop {
		rep.Days = append(rep.Days, time.Unix(dayStart(u.day), 0).UTC())
		rep.Bytes += u.bytes
		for _, iface := range u.files {
			rel := dataFileRel(iface, u.day)
			db.files.evict(rel)
			path := filepath.Join(db.dir, rel)
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("columnar: retain: %w", err))
				continue
			}
			rep.Files++
			dirs[filepath.Dir(path)] = true
		}
	}
	for dir := range dirs {
		if err := db.syncDir(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
