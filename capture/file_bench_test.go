package capture

// Read throughput of the file sources against a naive baseline in this file.
// Compare runs with benchstat:
//
//	go test -run '^$' -bench 'Read|Gunzip' -benchtime 2s -count 10 ./capture > new.txt
//	go tool benchstat old.txt new.txt
//
// BenchmarkNaiveRead is the baseline: encoding/binary.Read of every record
// header plus a fresh allocation per packet, the way a first reader is often
// written. BenchmarkGunzipStdlib and BenchmarkGunzipKlauspost measure the
// two gzip decoders on the same stream (the reason gzip.go uses the faster).

import (
	"bufio"
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"io"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

const benchFile = "goprobe_default.pcap.gz"

// benchInputs returns the gzip file and its decompressed bytes.
func benchInputs(b *testing.B) (gz, raw []byte) {
	b.Helper()
	gz = readTestFile(b, benchFile)
	zr, err := stdgzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		b.Fatal(err)
	}
	raw, err = io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	return gz, raw
}

// benchRead reads input with a FileSource per iteration and reports
// ns/packet and packets/op.
func benchRead(b *testing.B, input []byte, rawLen int) {
	b.ReportAllocs()
	b.SetBytes(int64(rawLen))
	var r bytes.Reader
	var n int
	for b.Loop() {
		r.Reset(input)
		s, err := Open(&r, benchFile)
		if err != nil {
			b.Fatal(err)
		}
		n = 0
		for {
			_, _, err := s.NextPacket()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		_ = s.Close()
	}
	reportPerPacket(b, n)
}

func reportPerPacket(b *testing.B, packetsPerOp int) {
	b.ReportMetric(float64(packetsPerOp), "packets/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(packetsPerOp), "ns/packet")
}

// BenchmarkReadGzip reads the gzipped capture from memory.
func BenchmarkReadGzip(b *testing.B) {
	gz, raw := benchInputs(b)
	benchRead(b, gz, len(raw))
}

// BenchmarkReadPcap reads the decompressed capture from memory.
func BenchmarkReadPcap(b *testing.B) {
	_, raw := benchInputs(b)
	benchRead(b, raw, len(raw))
}

// naiveRecordHeader is the baseline's record header, decoded with
// binary.Read.
type naiveRecordHeader struct {
	Sec, Frac, CapLen, OrigLen uint32
}

// naiveRead is the baseline reader: binary.Read per header and a new slice
// per packet. It handles only little-endian microsecond pcap.
func naiveRead(r io.Reader) (int, error) {
	br := bufio.NewReader(r)
	var fh [24]byte
	if _, err := io.ReadFull(br, fh[:]); err != nil {
		return 0, err
	}
	n := 0
	for {
		var h naiveRecordHeader
		if err := binary.Read(br, binary.LittleEndian, &h); err == io.EOF {
			return n, nil
		} else if err != nil {
			return n, err
		}
		data := make([]byte, h.CapLen)
		if _, err := io.ReadFull(br, data); err != nil {
			return n, err
		}
		n++
	}
}

// BenchmarkNaiveRead is the baseline for BenchmarkReadPcap.
func BenchmarkNaiveRead(b *testing.B) {
	_, raw := benchInputs(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	var n int
	for b.Loop() {
		var err error
		if n, err = naiveRead(bytes.NewReader(raw)); err != nil {
			b.Fatal(err)
		}
	}
	reportPerPacket(b, n)
}

// BenchmarkNaiveReadGzip is the baseline for BenchmarkReadGzip.
func BenchmarkNaiveReadGzip(b *testing.B) {
	gz, raw := benchInputs(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	var n int
	for b.Loop() {
		zr, err := stdgzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			b.Fatal(err)
		}
		if n, err = naiveRead(zr); err != nil {
			b.Fatal(err)
		}
	}
	reportPerPacket(b, n)
}

// benchGunzip measures decompression alone with a reusable decoder.
func benchGunzip(b *testing.B, newReader func(io.Reader) (io.Reader, error)) {
	gz, raw := benchInputs(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	buf := make([]byte, 256<<10)
	for b.Loop() {
		zr, err := newReader(bytes.NewReader(gz))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{zr}, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGunzipStdlib(b *testing.B) {
	benchGunzip(b, func(r io.Reader) (io.Reader, error) { return stdgzip.NewReader(r) })
}

func BenchmarkGunzipKlauspost(b *testing.B) {
	benchGunzip(b, func(r io.Reader) (io.Reader, error) { return kgzip.NewReader(r) })
}
