package columnar

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a DB. A nil *Options means the defaults of every field.
type Options struct {
	// Codecs chooses the buffer compression of each column kind for new
	// blocks. Nil means DefaultCodecs(). Stored blocks keep the codec they
	// were written with (it is recorded per chunk).
	Codecs *Codecs

	// NoSync skips every fsync (data files, folders, index). For tests and
	// benchmarks only: after a machine crash committed blocks may be lost or
	// damaged.
	NoSync bool

	// ReadOnly opens the store as a reader: without the writer lock and
	// without recovery, so any number of readers can run while one writer
	// process (the probe) writes. Write and Retain fail with ErrReadOnly.
	// The folder must hold a store, else Open fails with ErrNoStore.
	ReadOnly bool

	// LockTimeout bounds each wait for index.db while another process holds
	// it for one transaction (a reader's scan, the writer's commit). Zero
	// means 5 seconds. It does not apply to the writer lock: a read-write
	// Open of a folder another writer holds fails at once with ErrLocked.
	LockTimeout time.Duration

	// MaxOpenFiles bounds the data files kept open for reading and
	// appending. Zero means 64.
	MaxOpenFiles int

	// PageRows is the number of rows of each page of the values of the
	// PageColumns in new blocks (FORMAT.md "v4 pages"): a query that uses
	// a run of rows (the rows of one sip) reads the pages holding it, not
	// the whole column. Zero means DefaultPageRows; a negative value
	// stores each column's values as one chunk. A block of more than
	// maxPagesPerPart pages gets larger pages.
	PageRows int

	// PageColumns lists the columns whose values new blocks store in
	// pages. Nil means DefaultPageColumns; an empty list, none. sip is
	// never paged (its runs are small and always read whole).
	PageColumns []ColumnID

	// FailAfterDataSync is a failpoint for crash tests. When set, Write calls
	// it after the block's chunks are durable and before the index entry is
	// committed; if it returns an error, Write returns that error at once and
	// leaves the appended bytes in place, as a crash at that point would.
	FailAfterDataSync func(iface string, start int64) error
}

// Codecs chooses the buffer compression of each kind of column chunk. The
// zero value compresses nothing.
type Codecs struct {
	Dict    Codec // sorted address dictionaries (sip, dip): entries other than IPv4
	Dict4   Codec // the IPv4 entries of the dictionaries (format v2 PartDict4)
	Codes   Codec // address codes (sip, dip)
	Keys    Codec // dport, proto
	Bytes   Codec // bytes_in, bytes_out
	Packets Codec // packets_in, packets_out
}

// DefaultCodecs returns the compression chosen by measurement
// (BenchmarkChunkCodec on realistic 100k-flow blocks, FORMAT.md
// "Compression"): ZSTD for the 16-byte address dictionaries, where it saves
// the most bytes per microsecond of extra decode time, and LZ4 for the
// address codes, dport and proto, which the filters read in most queries
// and which ZSTD would decode about twice as slowly for little gain. The
// byte-stream-split chunks of format v2 change the balance: the IPv4 part
// of the dictionaries and bytes_in/bytes_out are LZ4 (split, LZ4 makes them
// about as small as ZSTD, or smaller than ZSTD makes plain values, and
// decodes them several times faster); packets_in/packets_out, whose split
// planes ZSTD still shrinks by a third more than LZ4 at a similar decode
// cost, stay ZSTD.
func DefaultCodecs() Codecs {
	return Codecs{Dict: CodecZstd, Dict4: CodecLZ4, Codes: CodecLZ4, Keys: CodecLZ4, Bytes: CodecLZ4, Packets: CodecZstd}
}

// codecFor returns the codec of one column part.
func (c *Codecs) codecFor(col ColumnID, p Part) Codec {
	switch {
	case p == PartDict4:
		return c.Dict4
	case p == PartDict:
		return c.Dict
	case col.IsAddr():
		return c.Codes
	case col == ColDPort || col == ColProto:
		return c.Keys
	case col == ColBytesIn || col == ColBytesOut:
		return c.Bytes
	}
	return c.Packets
}

func (c *Codecs) validate() error {
	for _, x := range [...]Codec{c.Dict, c.Dict4, c.Codes, c.Keys, c.Bytes, c.Packets} {
		if !x.IsValid() {
			return fmt.Errorf("columnar: options: codec %d out of range 0..%d", x, CodecZstd)
		}
	}
	return nil
}

// DB is a flow store in one folder: index.db plus data files (FORMAT.md).
// It is safe for concurrent use: reads run in parallel with each other and
// with the single writer; Write and Retain are serialized. One read-write DB
// (holding the folder's writer lock) and any number of read-only DBs, in any
// processes, may use a folder at the same time.
type DB struct {
	dir    string
	opts   Options
	codecs Codecs
	paged  uint16      // bit c: the values of column c are written in pages (Options.PageColumns)
	lock   *writerLock // nil when read-only
	files  *fileCache
	// lastPath is the data file path chunkPath made last.
	lastPath atomic.Pointer[pathPair]
	decs     *decompressorPool
	closed   atomic.Bool

	// imu orders this DB's index sessions: reads share it, commits take it
	// alone (indexopen.go).
	imu sync.RWMutex

	// recovered is what Open repaired; immutable after Open.
	recovered RecoveryReport

	// wmu serializes writers (Write, Retain) and guards their scratch space.
	wmu struct {
		sync.Mutex
		enc  blockEncoder
		cw   *chunkWriter
		buf  []byte
		meta BlockMeta
		val  []byte
	}
}

// Open opens the database in dir.
//
// Read-write (the default), Open creates the folder and an empty index if
// needed and takes the folder's writer lock until Close; if another DB, in
// this process or another, holds it, Open fails at once with a *LockedError
// (ErrLocked). It then recovers from an interrupted write: data-file bytes
// past the last committed chunk are truncated, *.tmp files and data files
// the index does not know are removed (see Recovered).
//
// With opts.ReadOnly, Open changes nothing on disk and fails with ErrNoStore
// if dir holds no store. Readers and the writer hold index.db only for one
// transaction at a time, so neither waits for the other for longer than
// that (FORMAT.md "Writer and readers").
func Open(ctx context.Context, dir string, opts *Options) (*DB, error) {
	db := &DB{dir: dir}
	if opts != nil {
		db.opts = *opts
	}
	db.codecs = DefaultCodecs()
	if db.opts.Codecs != nil {
		db.codecs = *db.opts.Codecs
	}
	if err := db.codecs.validate(); err != nil {
		return nil, err
	}
	if db.opts.LockTimeout <= 0 {
		db.opts.LockTimeout = defaultLockTimeout
	}
	if db.opts.MaxOpenFiles <= 0 {
		db.opts.MaxOpenFiles = 64
	}
	if db.opts.PageRows == 0 {
		db.opts.PageRows = DefaultPageRows
	}
	if db.opts.PageColumns == nil {
		db.opts.PageColumns = DefaultPageColumns
	}
	for _, id := range db.opts.PageColumns {
		if !id.IsValid() {
			return nil, fmt.Errorf("columnar: open %s: page columns: %w: id %d", dir, ErrUnknownColumn, id)
		}
		db.paged |= 1 << id
	}
	db.paged &^= 1 << ColSIP
	if db.opts.ReadOnly {
		if err := checkStoreDir(dir); err != nil {
			return nil, err
		}
	} else {
		if err := os.MkdirAll(filepath.Join(dir, DataDirName), 0o755); err != nil {
			return nil, fmt.Errorf("columnar: open %s: %w", dir, err)
		}
		var err error
		if db.lock, err = acquireWriterLock(dir); err != nil {
			return nil, err
		}
	}
	if err := db.initIndex(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	db.files = newFileCache(dir, db.opts.MaxOpenFiles, db.opts.ReadOnly)
	if !db.opts.ReadOnly {
		var err error
		if db.wmu.cw, err = newChunkWriter(); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	db.decs = newDecompressorPool(runtime.GOMAXPROCS(0))
	if !db.opts.ReadOnly {
		if err := db.recover(ctx); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	return db, nil
}

// defaultLockTimeout is Options.LockTimeout's zero value: far above one
// commit or index scan, below a human's patience.
const defaultLockTimeout = 5 * time.Second

// Dir returns the database folder.
func (db *DB) Dir() string { return db.dir }

// Recovered reports what Open repaired.
func (db *DB) Recovered() RecoveryReport { return db.recovered }

// RecoveryReport lists the repairs Open made after an interrupted write or
// retention run.
type RecoveryReport struct {
	TruncatedFiles []string // data files cut back to their committed length
	TruncatedBytes int64    // bytes cut from them
	RemovedFiles   []string // *.tmp files and data files without index entries
}

// Close releases the open files and, last, the writer lock. It waits for a
// running Write or Retain. Columns read before Close stay valid.
func (db *DB) Close() error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if db.closed.Swap(true) {
		return nil
	}
	var errs []error
	if db.files != nil {
		errs = append(errs, db.files.closeAll())
	}
	if db.decs != nil {
		db.decs.close()
	}
	if db.wmu.cw != nil {
		db.wmu.cw.close()
	}
	if db.lock != nil {
		errs = append(errs, db.lock.release())
	}
	return errors.Join(errs...)
}

func (db *DB) checkOpen() error {
	if db.closed.Load() {
		return ErrClosed
	}
	return nil
}

// syncDir fsyncs a folder so a created, renamed or removed entry is durable.
func (db *DB) syncDir(dir string) error {
	if db.opts.NoSync {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("columnar: sync folder: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("columnar: sync folder %s: %w", dir, err)
	}
	return nil
}
