package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gzipBytes compresses b (with compress/gzip, so the reader's decoder is
// checked against an independent encoder), optionally as two members.
func gzipBytes(t testing.TB, b []byte, members int) []byte {
	t.Helper()
	var out bytes.Buffer
	per := (len(b) + members - 1) / max(members, 1)
	for i := 0; i < len(b); i += per {
		zw := gzip.NewWriter(&out)
		if _, err := zw.Write(b[i:min(i+per, len(b))]); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

// samplePcapng is a small pcapng file with two interfaces.
func samplePcapng() []byte {
	f := &ngFile{}
	f.shb(le, 1, 0).idb(LinkEthernet, 0).idb(LinkSLL, 0)
	for i := range 50 {
		f.epb(uint32(i%2), uint64(i)*1000, 300, payload(byte(i), 40+i))
	}
	return f.buf
}

// samplePcap is a small pcap file.
func samplePcap() []byte {
	f := newPcapFile(le, pcapMagicNano, 2, 4, 0, 1)
	for i := range 50 {
		f.record(uint32(i), uint32(i), uint32(30+i), 1000, payload(byte(i), 30+i))
	}
	return f.buf
}

// TestGzip: gzip input (one or two members) reads the same packets as the
// plain file; damage in the compressed stream is ErrCorrupt or ErrTruncated.
func TestGzip(t *testing.T) {
	for name, plain := range map[string][]byte{"pcap": samplePcap(), "pcapng": samplePcapng()} {
		want, err := readBytes(t, plain)
		if err != nil {
			t.Fatal(err)
		}
		for _, members := range []int{1, 2} {
			got, err := readBytes(t, gzipBytes(t, plain, members))
			if err != nil {
				t.Fatalf("%s, %d members: %v", name, members, err)
			}
			comparePkts(t, got, want)
		}
		gz := gzipBytes(t, plain, 1)
		// A wrong CRC-32 in the trailer: every packet, then ErrCorrupt.
		bad := bytes.Clone(gz)
		bad[len(bad)-8] ^= 0xff
		got, err := readBytes(t, bad)
		fileErr(t, err, ErrCorrupt)
		comparePkts(t, got, want)
		// Cut compressed stream: a prefix of the packets, then ErrTruncated.
		for _, cut := range []int{len(gz) / 2, len(gz) - 1} {
			got, err := readBytes(t, gz[:cut])
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("%s cut at %d of %d: %v", name, cut, len(gz), err)
			}
			comparePkts(t, got, want[:len(got)])
		}
		// A cut gzip header fails Open.
		_, err = readBytes(t, gz[:5])
		if fe := fileErr(t, err, ErrTruncated); fe.Record != 0 {
			t.Fatalf("cut gzip header: record %d", fe.Record)
		}
	}
}

// TestGzipCorpus: the corpus's gzip file reads exactly like its
// decompressed bytes.
func TestGzipCorpus(t *testing.T) {
	gz := readTestFile(t, "goprobe_default.pcap.gz")
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	want, err := readBytes(t, raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readBytes(t, gz)
	if err != nil {
		t.Fatal(err)
	}
	comparePkts(t, got, want)
}

// TestSmallBuffer: records larger than the read buffer go through the owned
// buffer and read the same as with the default buffer.
func TestSmallBuffer(t *testing.T) {
	f := newPcapFile(le, pcapMagicMicro, 2, 4, 1<<20, 1)
	ng := &ngFile{}
	ng.shb(le, 1, 0).idb(LinkEthernet, 1<<20)
	for i, n := range []int{10, 5000, 100, 70000, 4095, 4096, 4097, 300000, 1} {
		f.record(uint32(i), 0, uint32(n), uint32(n), payload(byte(i), n))
		ng.epb(0, uint64(i), uint32(n), payload(byte(i), n))
		ng.block(77, make([]byte, n&^3)) // skipped block of the same size
	}
	for _, file := range [][]byte{f.buf, ng.buf} {
		want, err := readBytes(t, file)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != 9 {
			t.Fatalf("got %d packets", len(want))
		}
		got, err := readBytes(t, file, WithBufferSize(1))
		if err != nil {
			t.Fatal(err)
		}
		comparePkts(t, got, want)
	}
}

// TestAppendPacket: the copy tier returns caller-owned bytes that survive
// later reads.
func TestAppendPacket(t *testing.T) {
	want, err := readBytes(t, samplePcap())
	if err != nil {
		t.Fatal(err)
	}
	src, err := openBytes(t, samplePcap())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var kept [][]byte
	for {
		b, _, err := src.AppendPacket(nil)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, b)
	}
	for i := range want {
		if !bytes.Equal(kept[i], want[i].data) {
			t.Fatalf("packet %d changed after later reads", i+1)
		}
	}
}

// TestClose: Close is idempotent, later reads return ErrClosed, and OpenFile
// closes its file.
func TestClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pcap")
	if err := os.WriteFile(path, samplePcap(), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.NextPacket(); err != nil {
		t.Fatal(err)
	}
	f := src.file
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := src.NextPacket(); !errors.Is(err, ErrClosed) {
		t.Fatalf("NextPacket after Close: %v", err)
	}
	if _, err := f.Stat(); err == nil {
		t.Fatal("file still open after Close")
	}

	_, err = OpenFile(filepath.Join(t.TempDir(), "missing.pcap"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.pcap") {
		t.Fatalf("missing file: %v", err)
	}
}

// TestFileErrorMessage: the message names file, record and offset; Unwrap
// exposes the class.
func TestFileErrorMessage(t *testing.T) {
	b := readTestFile(t, "suricata_tls_der_incomplete_header.pcap")
	path := filepath.Join(t.TempDir(), "tls.pcap")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	pkts, err := readAll(src)
	fe := fileErr(t, err, ErrCorrupt)
	want := path + ": record 7 at offset 5035: capture: corrupt file: pcap record captured length 4325376 exceeds limit 262144 (snap length 262144)"
	if len(pkts) != 6 || fe.Record != 7 || fe.Offset != 5035 || err.Error() != want {
		t.Fatalf("%d packets, error %q\nwant %q", len(pkts), err, want)
	}
	// The error is sticky.
	if _, _, err2 := src.NextPacket(); err2 != err {
		t.Fatalf("second call: %v", err2)
	}
}

// errReader fails after n bytes with a non-EOF error.
type errReader struct {
	r   io.Reader
	n   int
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, e.err
	}
	p = p[:min(len(p), e.n)]
	n, err := e.r.Read(p)
	e.n -= n
	return n, err
}

// TestIOError: a failing reader's error is passed through (not classed as
// corruption) inside a *FileError.
func TestIOError(t *testing.T) {
	boom := errors.New("disk on fire")
	b := samplePcap()
	src, err := Open(&errReader{bytes.NewReader(b), 500, boom}, "x", WithBufferSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = readAll(src)
	var fe *FileError
	if !errors.Is(err, boom) || !errors.As(err, &fe) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v", err)
	}
}
