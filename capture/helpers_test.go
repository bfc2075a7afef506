package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowsql/flowsql/internal/testdata"
)

// readTestFile returns the bytes of a shared test capture, skipping when
// absent.
func readTestFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(testdata.PcapDir(tb), name))
	if err != nil {
		tb.Skipf("test capture %s: %v", name, err)
	}
	return b
}

// pkt is a packet copied out of a source.
type pkt struct {
	data []byte
	info PacketInfo
}

// readAll drains src, copying every packet; it returns the packets and the
// final error (nil at a clean io.EOF).
func readAll(src Source) ([]pkt, error) {
	var out []pkt
	for {
		data, info, err := src.NextPacket()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if int(info.CapLen) != len(data) {
			return out, errors.New("CapLen != len(data)")
		}
		out = append(out, pkt{bytes.Clone(data), info})
	}
}

// openBytes opens an in-memory capture.
func openBytes(tb testing.TB, b []byte, opts ...FileOption) (*FileSource, error) {
	tb.Helper()
	return Open(bytes.NewReader(b), "mem", opts...)
}

// readBytes opens and drains an in-memory capture. An Open error is
// returned as the final error with no packets.
func readBytes(tb testing.TB, b []byte, opts ...FileOption) ([]pkt, error) {
	tb.Helper()
	s, err := openBytes(tb, b, opts...)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return readAll(s)
}

// fileErr asserts err is a *FileError wrapping class and returns it.
func fileErr(tb testing.TB, err, class error) *FileError {
	tb.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		tb.Fatalf("error %v (%T) is not a *FileError", err, err)
	}
	if !errors.Is(err, class) {
		tb.Fatalf("error %v does not wrap %v", err, class)
	}
	return fe
}

// pcapFile builds classic pcap files by hand (independently of PcapWriter),
// in either byte order and with any version or magic.
type pcapFile struct {
	bo  binary.AppendByteOrder
	buf []byte
}

func newPcapFile(bo binary.AppendByteOrder, magic uint32, major, minor uint16, snap, link uint32) *pcapFile {
	p := &pcapFile{bo: bo}
	p.buf = bo.AppendUint32(p.buf, magic)
	p.buf = bo.AppendUint16(p.buf, major)
	p.buf = bo.AppendUint16(p.buf, minor)
	p.buf = bo.AppendUint32(p.buf, 0)
	p.buf = bo.AppendUint32(p.buf, 0)
	p.buf = bo.AppendUint32(p.buf, snap)
	p.buf = bo.AppendUint32(p.buf, link)
	return p
}

// record appends a record with the given raw header fields.
func (p *pcapFile) record(sec, frac, capLen, origLen uint32, data []byte) *pcapFile {
	p.buf = p.bo.AppendUint32(p.buf, sec)
	p.buf = p.bo.AppendUint32(p.buf, frac)
	p.buf = p.bo.AppendUint32(p.buf, capLen)
	p.buf = p.bo.AppendUint32(p.buf, origLen)
	p.buf = append(p.buf, data...)
	return p
}

// payload returns n deterministic bytes starting with seed.
func payload(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}
