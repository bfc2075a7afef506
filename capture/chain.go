package capture

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ChainItem is one capture file of a Chain.
type ChainItem struct {
	// Path is the file to open with OpenFile.
	Path string
	// DefaultName names the file's interfaces that carry no name of their
	// own (every pcap file, pcapng IDBs without if_name): interface 0 is
	// DefaultName, interface i > 0 is DefaultName-i.
	DefaultName string
	// Name, when set, names every interface of the file, overriding both
	// if_name and DefaultName (the CLI's --iface).
	Name string
}

// Chain reads several capture files one after the other as a single Source,
// so that the rotated files of one capture (tcpdump -G/-C) continue each
// other instead of each ending its interfaces' open blocks.
//
// Interfaces are identified by name across files: every interface a Chain
// reports has a non-empty name, and packets of interfaces with the same name
// in different files (or in different sections of one pcapng file) share one
// index in Interfaces. Link types may differ between files; each packet's
// PacketInfo.Link is its own.
//
// A damaged file does not stop the chain: its good records are delivered,
// its error is recorded (see Errors) and reading continues with the next
// file. A file that cannot be opened at all is recorded the same way.
// NextPacket returns io.EOF once every file is done.
type Chain struct {
	items []ChainItem
	next  int         // index of the next item to open
	cur   *FileSource // open file, or nil
	item  ChainItem   // item of cur

	ifaces []Interface
	byName map[string]int
	remap  []int // cur's interface index -> chain index
	errs   []error
}

// NewChain returns a Chain over items. Nothing is opened before the first
// NextPacket.
func NewChain(items []ChainItem) *Chain {
	return &Chain{items: items, byName: make(map[string]int)}
}

// NextPacket returns the next packet of the current file, moving on to the
// next file at the end of one. The data slice is valid until the next call.
func (c *Chain) NextPacket() ([]byte, PacketInfo, error) {
	for {
		if c.cur == nil {
			if c.next >= len(c.items) {
				return nil, PacketInfo{}, io.EOF
			}
			c.item = c.items[c.next]
			c.next++
			src, err := OpenFile(c.item.Path)
			if err != nil {
				c.errs = append(c.errs, err)
				continue
			}
			c.cur = src
			c.remap = c.remap[:0]
		}
		data, info, err := c.cur.NextPacket()
		if err == nil {
			info.Iface = c.chainIndex(info.Iface)
			return data, info, nil
		}
		if !errors.Is(err, io.EOF) {
			c.errs = append(c.errs, err)
		}
		if cerr := c.cur.Close(); cerr != nil {
			c.errs = append(c.errs, fmt.Errorf("close %s: %w", c.item.Path, cerr))
		}
		c.cur = nil
	}
}

// chainIndex maps an interface index of the current file to the chain's,
// registering the file's interfaces as they appear.
func (c *Chain) chainIndex(i int) int {
	if i < len(c.remap) {
		return c.remap[i]
	}
	fileIfaces := c.cur.Interfaces()
	for j := len(c.remap); j < len(fileIfaces) && j <= i; j++ {
		fi := fileIfaces[j]
		name := c.item.Name
		switch {
		case name != "":
		case fi.Name != "":
			name = fi.Name
		case j == 0:
			name = c.item.DefaultName
		default:
			name = c.item.DefaultName + "-" + strconv.Itoa(j)
		}
		idx, ok := c.byName[name]
		if !ok {
			idx = len(c.ifaces)
			fi.Name = name
			c.ifaces = append(c.ifaces, fi)
			c.byName[name] = idx
		}
		c.remap = append(c.remap, idx)
	}
	if i < len(c.remap) {
		return c.remap[i]
	}
	return i // unreachable for a well-behaved FileSource
}

// Interfaces lists the interfaces seen so far, each named.
func (c *Chain) Interfaces() []Interface { return c.ifaces }

// Errors returns the errors of the files read so far: files that could not
// be opened and files that ended in damage. Each names its file.
func (c *Chain) Errors() []error { return c.errs }

// Close closes the open file, if any. Files not yet opened are skipped.
func (c *Chain) Close() error {
	c.next = len(c.items)
	if c.cur == nil {
		return nil
	}
	err := c.cur.Close()
	c.cur = nil
	return err
}
