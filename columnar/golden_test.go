package columnar

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/")

// field is one annotated span of a hex dump.
type field struct {
	name string
	n    int
}

// hexDump writes data as annotated lines: offset, up to 16 bytes, and the
// name of the field they belong to. Long fields wrap onto further lines.
func hexDump(w *strings.Builder, base int, data []byte, fields []field) {
	off := 0
	for _, f := range fields {
		for i := 0; i < f.n; i += 16 {
			end := min(i+16, f.n)
			chunk := data[off+i : off+end]
			hx := make([]string, len(chunk))
			for j, c := range chunk {
				hx[j] = fmt.Sprintf("%02x", c)
			}
			name := f.name
			if i > 0 {
				name = "  ..."
			}
			fmt.Fprintf(w, "%06x  %-47s  %s\n", base+off+i, strings.Join(hx, " "), name)
		}
		off += f.n
	}
	if off != len(data) {
		panic(fmt.Sprintf("hexDump: fields cover %d of %d bytes", off, len(data)))
	}
}

func v4addr(a, b, c, d byte) [16]byte {
	return [16]byte{10: 0xff, 11: 0xff, 12: a, 13: b, 14: c, 15: d}
}

// TestGoldenFormat dumps a tiny store byte by byte: the data-file header,
// one uncompressed chunk frame with its Arrow IPC stream, the index key and
// the index values. Any change to the bytes on disk shows as a text diff;
// regenerate with -rewrite after bumping FormatVersion.
func TestGoldenFormat(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(context.Background(), dir, &Options{NoSync: true, Codecs: &Codecs{}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := &Block{Iface: "eth0", Start: 1741600800, End: 1741601100, NonIP: 2, ParseErrors: 1}
	b.Append(v4addr(10, 0, 0, 1), v4addr(192, 0, 2, 7), 443, 6, 5000, 300, 5, 4)
	b.Append([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}, [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 0x53}, 53, 17, 120, 60, 1, 1)
	b.Append(v4addr(10, 0, 0, 1), v4addr(192, 0, 2, 8), 80, 6, 1<<32, 1, 70000, 1)
	if err := db.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	ms, err := db.Blocks(context.Background(), Selector{})
	if err != nil {
		t.Fatal(err)
	}
	m := ms[0]
	data, err := os.ReadFile(filepath.Join(dir, m.File))
	if err != nil {
		t.Fatal(err)
	}

	var w strings.Builder
	fmt.Fprintf(&w, "# Golden dump of a 3-row block of eth0 at 2025-03-10 10:00 UTC, codec none.\n")
	fmt.Fprintf(&w, "# Regenerate: go test ./columnar -run TestGoldenFormat -rewrite\n\n")
	fmt.Fprintf(&w, "## %s: file header\n", m.File)
	hexDump(&w, 0, data[:fileHeaderLen], []field{{"magic \"FSQD\"", 4}, {"version", 2}, {"reserved", 2}, {"day (UTC days since 1970)", 4}, {"crc32c of bytes 0..11", 4}})
	ref, _ := m.Chunk(ColProto, PartValues)
	frame := data[ref.Offset : ref.Offset+ref.Length]
	fmt.Fprintf(&w, "\n## chunk frame: proto values (offset %d, length %d)\n", ref.Offset, ref.Length)
	hexDump(&w, int(ref.Offset), frame[:frameHeaderLen], []field{
		{"magic \"FSQC\"", 4}, {"version", 1}, {"column id (4 = proto)", 1}, {"part (0 = values)", 1}, {"encoding (1 = uint8)", 1},
		{"codec (0 = none)", 1}, {"reserved", 3}, {"rows", 4}, {"block start (unix s)", 8}, {"payload length", 4}, {"crc32c", 4},
	})
	var h frameHeader
	payload, _ := h.Unmarshal(frame)
	l, err := scanStream(payload, &h)
	if err != nil {
		t.Fatal(err)
	}
	base := int(ref.Offset) + frameHeaderLen
	fmt.Fprintf(&w, "\n### Arrow IPC stream\n")
	hexDump(&w, base, payload, []field{
		{"continuation 0xffffffff", 4}, {"schema metadata length", 4}, {"schema message (flatbuffer)", l.schema.metaLen},
		{"continuation 0xffffffff", 4}, {"record batch metadata length", 4}, {"record batch message (flatbuffer)", l.batch.metaLen},
		{"record batch body: proto values, padded to 8", l.batch.bodyLen}, {"end of stream", 8},
	})
	// The IPv4 part of the dip dictionary (format v2): 192.0.2.7 and
	// 192.0.2.8, byte-stream-split.
	ref4, _ := m.Chunk(ColDIP, PartDict4)
	frame4 := data[ref4.Offset : ref4.Offset+ref4.Length]
	var h4 frameHeader
	payload4, _ := h4.Unmarshal(frame4)
	l4, err := scanStream(payload4, &h4)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&w, "\n## chunk frame: dip dict4 (offset %d, length %d): header\n", ref4.Offset, ref4.Length)
	hexDump(&w, int(ref4.Offset), frame4[:frameHeaderLen], []field{
		{"magic \"FSQC\"", 4}, {"version", 1}, {"column id (2 = dip)", 1}, {"part (2 = dict4)", 1}, {"encoding (6 = fixed_size_binary(4), byte-stream-split)", 1},
		{"codec (0 = none)", 1}, {"reserved", 3}, {"rows", 4}, {"block start (unix s)", 8}, {"payload length", 4}, {"crc32c", 4},
	})
	n4 := int(h4.Rows)
	body := frameHeaderLen + l4.batch.bodyOff
	fmt.Fprintf(&w, "\n### record batch body (after schema and batch messages)\n")
	hexDump(&w, int(ref4.Offset)+body, frame4[body:body+l4.batch.bodyLen], []field{
		{"byte 0 of each address", n4}, {"byte 1 of each address", n4}, {"byte 2 of each address", n4}, {"byte 3 of each address", n4},
		{"padding to 8", l4.batch.bodyLen - 4*n4},
	})
	// A counter of format v2: bytes_out (300, 1, 60 in row order: uint16)
	// byte-stream-split.
	refc, _ := m.Chunk(ColBytesOut, PartValues)
	framec := data[refc.Offset : refc.Offset+refc.Length]
	var hc frameHeader
	payloadc, _ := hc.Unmarshal(framec)
	lc, err := scanStream(payloadc, &hc)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&w, "\n## chunk frame: bytes_out values (offset %d, length %d): header\n", refc.Offset, refc.Length)
	hexDump(&w, int(refc.Offset), framec[:frameHeaderLen], []field{
		{"magic \"FSQC\"", 4}, {"version", 1}, {"column id (6 = bytes_out)", 1}, {"part (0 = values)", 1}, {"encoding (7 = uint16, byte-stream-split)", 1},
		{"codec (0 = none)", 1}, {"reserved", 3}, {"rows", 4}, {"block start (unix s)", 8}, {"payload length", 4}, {"crc32c", 4},
	})
	nc := int(hc.Rows)
	bodyc := frameHeaderLen + lc.batch.bodyOff
	fmt.Fprintf(&w, "\n### record batch body (after schema and batch messages)\n")
	hexDump(&w, int(refc.Offset)+bodyc, framec[bodyc:bodyc+lc.batch.bodyLen], []field{
		{"byte 0 (least significant) of each value", nc}, {"byte 1 of each value", nc}, {"padding to 8", lc.batch.bodyLen - 2*nc},
	})
	fmt.Fprintf(&w, "\n## index key blocks/eth0/<start>\n")
	key := appendBlockKey(nil, m.Start)
	hexDump(&w, 0, key, []field{{"block start, uint64 big-endian", 8}})
	var val, fval []byte
	err = db.view(context.Background(), func(tx *bolt.Tx) error {
		val = append(val, tx.Bucket(bucketBlocks).Bucket([]byte("eth0")).Get(key)...)
		fval = append(fval, tx.Bucket(bucketFiles).Bucket([]byte("eth0")).Get(appendFileKey(nil, dayOf(m.Start)))...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&w, "\n## index value blocks/eth0/<start>\n")
	fields := []field{
		{"version", 1}, {"flags (1 = rows sorted by sip, dip; 2 = each flow once; 4 = IPv4 codes first)", 1}, {"chunk count", 1}, {"reserved", 1}, {"rows", 4},
		{"start", 8}, {"end", 8}, {"distinct sip", 4}, {"distinct dip", 4}, {"min dport", 2}, {"max dport", 2},
		{"min proto", 1}, {"max proto", 1}, {"reserved", 2}, {"bytes_in", 8}, {"bytes_out", 8}, {"packets_in", 8},
		{"packets_out", 8}, {"non_ip", 8}, {"parse_errors", 8},
	}
	for _, c := range m.Chunks {
		fields = append(fields, field{fmt.Sprintf("chunk %s %s: column, part, encoding %s, codec %s", c.Column, c.Part, c.Encoding, c.Codec), 4},
			field{"  rows", 4}, field{"  offset", 8}, field{"  frame length", 4}, field{"  crc32c", 4})
	}
	hexDump(&w, 0, val, append(fields, field{"crc32c of the entry", 4}))
	fmt.Fprintf(&w, "\n## index key files/eth0/<day>\n")
	hexDump(&w, 0, appendFileKey(nil, dayOf(m.Start)), []field{{"UTC day, uint32 big-endian", 4}})
	fmt.Fprintf(&w, "\n## index value files/eth0/<day>\n")
	hexDump(&w, 0, fval, []field{{"version", 1}, {"reserved", 3}, {"blocks", 4}, {"committed length", 8}, {"crc32c", 4}})
	if binary.BigEndian.Uint64(fval[8:]) != uint64(len(data)) {
		t.Errorf("file entry length %d, file is %d bytes", binary.BigEndian.Uint64(fval[8:]), len(data))
	}

	golden := filepath.Join("testdata", "format_golden.txt")
	if *rewrite {
		if err := os.WriteFile(golden, []byte(w.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with -rewrite)", err)
	}
	if got := w.String(); got != string(want) {
		t.Errorf("format changed; diff %s against this output (or -rewrite after a version bump):\n%s", golden, got)
	}
}

func TestStageOrder(t *testing.T) {
	w := blockWriter{b: &Block{Iface: "eth0", Start: 42}}
	if err := w.advance(stageChecked); err != nil {
		t.Fatal(err)
	}
	for _, to := range []writeStage{stageChecked, stageNew, stageAppended, stageCommitted} {
		err := w.advance(to)
		if err == nil || !strings.Contains(err.Error(), "checked -> "+to.String()) {
			t.Errorf("advance checked -> %s: %v", to, err)
		}
	}
}
