package columnar

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Names of the files and folders of a database (FORMAT.md "Folder layout").
const (
	// IndexFileName is the bbolt index inside the database folder.
	IndexFileName = "index.db"
	// LockFileName is the writer lock inside the database folder: a
	// read-write DB holds an exclusive advisory lock on it from Open to
	// Close. It records the holder's pid in decimal, for error messages.
	LockFileName = "writer.lock"
	// DataDirName is the folder holding one sub-folder of data files per
	// interface.
	DataDirName = "data"
	// DataFileExt ends every data file name: data/<iface>/<YYYYMMDD>.fsc.
	DataFileExt = ".fsc"
	// TmpSuffix ends files being created; Open removes any it finds.
	TmpSuffix = ".tmp"
	// dayLayout formats the UTC day of a data file name.
	dayLayout = "20060102"
	// secondsPerDay is the length of the UTC day a data file covers.
	secondsPerDay = 86400
)

// dayOf returns the UTC day (days since 1970-01-01) holding unix second t.
// REQUIRES: t >= 0.
func dayOf(t int64) uint32 { return uint32(t / secondsPerDay) }

// dayStart returns the unix second at which UTC day d begins.
func dayStart(d uint32) int64 { return int64(d) * secondsPerDay }

// dayFileName returns "YYYYMMDD.fsc" for UTC day d.
func dayFileName(d uint32) string {
	return time.Unix(dayStart(d), 0).UTC().Format(dayLayout) + DataFileExt
}

// parseDayFileName reads the UTC day from a name made by dayFileName.
func parseDayFileName(name string) (uint32, bool) {
	base, ok := strings.CutSuffix(name, DataFileExt)
	if !ok || len(base) != len(dayLayout) {
		return 0, false
	}
	t, err := time.Parse(dayLayout, base)
	if err != nil || t.Unix() < 0 {
		return 0, false
	}
	return dayOf(t.Unix()), true
}

// dataFileRel returns the path of an interface's data file for UTC day d,
// relative to the database folder.
func dataFileRel(iface string, d uint32) string {
	return filepath.Join(DataDirName, EscapeIface(iface), dayFileName(d))
}

// ifaceNameOK reports why an interface name cannot be stored, or nil.
func ifaceNameOK(iface string) error {
	switch {
	case iface == "":
		return fmt.Errorf("interface name is empty")
	case len(iface) > 255:
		return fmt.Errorf("interface name is %d bytes long, limit 255", len(iface))
	case strings.IndexByte(iface, 0) >= 0:
		return fmt.Errorf("interface name %q contains a NUL byte", iface)
	}
	return nil
}

// EscapeIface returns the folder name of an interface: bytes other than
// ASCII letters, digits, '-', '_' and a non-leading '.' become %XX (upper-case
// hex), so any name is a single safe path element and distinct names stay
// distinct.
func EscapeIface(iface string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(iface); i++ {
		c := iface[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// UnescapeIface reverses EscapeIface. It rejects names EscapeIface would not
// produce.
func UnescapeIface(name string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(name) {
			return "", fmt.Errorf("columnar: bad interface folder name %q: truncated escape at byte %d", name, i)
		}
		hi, ok1 := unhex(name[i+1])
		lo, ok2 := unhex(name[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("columnar: bad interface folder name %q: bad escape at byte %d", name, i)
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	s := b.String()
	if EscapeIface(s) != name {
		return "", fmt.Errorf("columnar: bad interface folder name %q: not in canonical form", name)
	}
	return s, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
