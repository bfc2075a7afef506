package columnar

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// fileCache keeps data files open for reads (ReadAt) and appends (WriteAt),
// shared by concurrent readers and the writer. Handles are reference
// counted so retention can close and remove a file while a read is in
// flight: the handle closes when its last user releases it.
type fileCache struct {
	dir      string
	max      int
	readOnly bool

	mu struct {
		sync.Mutex
		open map[string]*fileHandle // by path relative to dir
	}
}

type fileHandle struct {
	rel  string
	f    *os.File
	refs int  // REQUIRES: fileCache.mu held
	dead bool // evicted: close when refs drops to 0. REQUIRES: fileCache.mu held
}

func newFileCache(dir string, max int, readOnly bool) *fileCache {
	c := &fileCache{dir: dir, max: max, readOnly: readOnly}
	c.mu.open = make(map[string]*fileHandle)
	return c
}

// acquire returns an open handle to rel, opening it if needed. The caller
// must release it.
func (c *fileCache) acquire(rel string) (*fileHandle, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.mu.open[rel]; h != nil {
		h.refs++
		return h, nil
	}
	flag := os.O_RDWR
	if c.readOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(filepath.Join(c.dir, rel), flag, 0)
	if err != nil {
		return nil, err
	}
	h := &fileHandle{rel: rel, f: f, refs: 1}
	c.mu.open[rel] = h
	c.evictIdleLocked()
	return h, nil
}

// adopt registers a file the writer just created, with one reference.
func (c *fileCache) adopt(rel string, f *os.File) *fileHandle {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.mu.open[rel]; old != nil {
		c.dropLocked(old)
	}
	h := &fileHandle{rel: rel, f: f, refs: 1}
	c.mu.open[rel] = h
	c.evictIdleLocked()
	return h
}

// release drops a reference taken by acquire or adopt.
func (c *fileCache) release(h *fileHandle) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h.refs--
	if h.refs == 0 && h.dead {
		_ = h.f.Close()
	}
}

// evict forgets rel; its handle closes once unused. Retention calls it before
// removing the file.
func (c *fileCache) evict(rel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.mu.open[rel]; h != nil {
		c.dropLocked(h)
	}
}

// REQUIRES: c.mu held.
func (c *fileCache) dropLocked(h *fileHandle) {
	delete(c.mu.open, h.rel)
	h.dead = true
	if h.refs == 0 {
		_ = h.f.Close()
	}
}

// evictIdleLocked closes unused handles while more than max are open.
// REQUIRES: c.mu held.
func (c *fileCache) evictIdleLocked() {
	for rel, h := range c.mu.open {
		if len(c.mu.open) <= c.max {
			return
		}
		if h.refs == 0 {
			delete(c.mu.open, rel)
			_ = h.f.Close()
		}
	}
}

// dropReplaced forgets the unused handles whose file has been removed or
// replaced on disk since it was opened: in a reader process, retention in
// the writer process unlinks files this cache would otherwise hold open (so
// their space stays in use), and may later create a new file of the same
// name.
func (c *fileCache) dropReplaced() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.mu.open {
		if h.refs > 0 {
			continue
		}
		open, err := h.f.Stat()
		if err == nil {
			var disk os.FileInfo
			if disk, err = os.Stat(filepath.Join(c.dir, h.rel)); err == nil && os.SameFile(open, disk) {
				continue
			}
		}
		c.dropLocked(h)
	}
}

// closeAll closes every handle; handles in use close on their last release.
func (c *fileCache) closeAll() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, h := range c.mu.open {
		delete(c.mu.open, h.rel)
		h.dead = true
		if h.refs == 0 {
			if err := h.f.Close(); err != nil {
				errs = append(errs, fmt.Errorf("columnar: close %s: %w", h.rel, err))
			}
		}
	}
	return errors.Join(errs...)
}
