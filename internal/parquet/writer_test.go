package parquet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// testSchema has every supported type, nullable and not.
func testSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "time", Type: &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}},
		{Name: "ms", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
		{Name: "us", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{Name: "ns", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "maybe", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "u8", Type: arrow.PrimitiveTypes.Uint8},
		{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
		{Name: "u32", Type: arrow.PrimitiveTypes.Uint32},
		{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8},
		{Name: "i16", Type: arrow.PrimitiveTypes.Int16},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
}

// randomRecord makes n rows of s: extremes of each integer type among
// random values, empty and non-ASCII strings, and nulls at the rate
// nullRate in nullable columns (1 makes a column all null).
func randomRecord(r *rand.Rand, s *arrow.Schema, n int, nullRate float64) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, s)
	defer b.Release()
	pick := func(extremes []uint64, random func() uint64) uint64 {
		if r.IntN(8) == 0 {
			return extremes[r.IntN(len(extremes))]
		}
		return random()
	}
	for range n {
		for j, f := range s.Fields() {
			fb := b.Field(j)
			if f.Nullable && r.Float64() < nullRate {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(1741600000 + r.Int64N(1e6) - 5e5))
			case *array.StringBuilder:
				fb.Append([]string{"", "eth0", "h1", "2001:db8::1", "10.0.0.1", "größe", strings.Repeat("x", 300)}[r.IntN(7)])
			case *array.Uint8Builder:
				fb.Append(uint8(pick([]uint64{0, math.MaxUint8}, r.Uint64)))
			case *array.Uint16Builder:
				fb.Append(uint16(pick([]uint64{0, math.MaxUint16}, r.Uint64)))
			case *array.Uint32Builder:
				fb.Append(uint32(pick([]uint64{0, math.MaxUint32}, r.Uint64)))
			case *array.Uint64Builder:
				fb.Append(pick([]uint64{0, math.MaxUint64, 1 << 63}, r.Uint64))
			case *array.Int8Builder:
				fb.Append(int8(pick([]uint64{1 << 7, 1<<7 - 1, 0}, r.Uint64)))
			case *array.Int16Builder:
				fb.Append(int16(pick([]uint64{1 << 15, 1<<15 - 1}, r.Uint64)))
			case *array.Int32Builder:
				fb.Append(int32(pick([]uint64{1 << 31, 1<<31 - 1}, r.Uint64)))
			case *array.Int64Builder:
				fb.Append(int64(pick([]uint64{1 << 63, 1<<63 - 1}, r.Uint64)))
			case *array.Float32Builder:
				fb.Append(r.Float32()*1e6 - 5e5)
			case *array.Float64Builder:
				fb.Append([]float64{0, -1.5, math.Inf(1), r.Float64() * 1e12}[r.IntN(4)])
			}
		}
	}
	return b.NewRecordBatch()
}

// readBack reads a file with arrow-go's Parquet reader: its table (in
// the Arrow schema stored in the footer) and its metadata.
func readBack(t *testing.T, data []byte) (arrow.Table, *metadata.FileMetaData) {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("arrow-go cannot open the file: %v", err)
	}
	t.Cleanup(func() { pf.Close() })
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("arrow-go cannot read the file: %v", err)
	}
	t.Cleanup(tbl.Release)
	return tbl, pf.MetaData()
}

// writeFile writes recs to a file of schema s and returns its bytes.
func writeFile(t *testing.T, s *arrow.Schema, opts Options, recs ...arrow.RecordBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cellsOf renders columns' values as text, column after column (each
// given as its chunks), nulls as "(null)".
func cellsOf(cols [][]arrow.Array) []string {
	var out []string
	for _, chunks := range cols {
		for _, c := range chunks {
			for i := range c.Len() {
				out = append(out, c.ValueStr(i))
			}
		}
	}
	return out
}

func tableCells(tbl arrow.Table) []string {
	cols := make([][]arrow.Array, tbl.NumCols())
	for j := range cols {
		cols[j] = tbl.Column(j).Data().Chunks()
	}
	return cellsOf(cols)
}

func recordsCells(recs []arrow.RecordBatch) []string {
	cols := make([][]arrow.Array, recs[0].NumCols())
	for j := range cols {
		for _, r := range recs {
			cols[j] = append(cols[j], r.Column(j))
		}
	}
	return cellsOf(cols)
}

// TestRoundTrip writes records of every supported type (nulls, extremes,
// batches split across pages and row groups) with each codec and reads
// them back with arrow-go's reader: the same schema and the same values,
// the row groups and pages asked for.
func TestRoundTrip(t *testing.T) {
	s := testSchema()
	for _, codec := range []Codec{Uncompressed, Snappy, Zstd} {
		t.Run(fmt.Sprint(codec), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(codec), 9))
			var recs []arrow.RecordBatch
			for _, n := range []int{1, 0, 700, 2500, 33, 1} {
				recs = append(recs, randomRecord(r, s, n, 0.2))
			}
			defer func() {
				for _, rec := range recs {
					rec.Release()
				}
			}()
			data := writeFile(t, s, Options{Codec: codec, RowGroupRows: 1000, PageRows: 128, CreatedBy: "flowsql test"}, recs...)
			tbl, meta := readBack(t, data)
			checkSchema(t, tbl.Schema(), s)
			if v := meta.KeyValueMetadata().FindValue("ARROW:schema"); v == nil || *v == "" {
				t.Errorf("no ARROW:schema in the footer")
			}
			if tbl.NumRows() != 3235 || meta.NumRows != 3235 {
				t.Fatalf("%d rows read, %d in the footer; want 3235", tbl.NumRows(), meta.NumRows)
			}
			if got, want := tableCells(tbl), recordsCells(recs); !slices.Equal(got, want) {
				t.Fatalf("values differ")
			}
			if meta.NumRowGroups() != 4 {
				t.Errorf("%d row groups of at most 1000 rows for 3235 rows, want 4", meta.NumRowGroups())
			}
			if meta.GetCreatedBy() != "flowsql test" {
				t.Errorf("created_by %q", meta.GetCreatedBy())
			}
		})
	}
}

// checkSchema compares the schema read back with the one written: the
// same names, types and nullability, but for timestamp[s], which Parquet
// stores (and arrow-go reads) in milliseconds.
func checkSchema(t *testing.T, got, want *arrow.Schema) {
	t.Helper()
	if got.NumFields() != want.NumFields() {
		t.Fatalf("%d columns read back, want %d", got.NumFields(), want.NumFields())
	}
	for i, f := range want.Fields() {
		g := got.Field(i)
		wt := f.Type
		if ts, ok := wt.(*arrow.TimestampType); ok && ts.Unit == arrow.Second {
			wt = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: ts.TimeZone}
		}
		if g.Name != f.Name || !arrow.TypeEqual(g.Type, wt) || g.Nullable != f.Nullable {
			t.Errorf("column %d read back as %s %s nullable=%v, want %s %s nullable=%v", i, g.Name, g.Type, g.Nullable, f.Name, wt, f.Nullable)
		}
	}
}

// TestTypesAndStatistics checks the Parquet types a reader sees and each
// column chunk's statistics against the values written: null counts, and
// minimum and maximum in the type's order (unsigned for unsigned types).
func TestTypesAndStatistics(t *testing.T) {
	s := testSchema()
	r := rand.New(rand.NewPCG(5, 6))
	rec := randomRecord(r, s, 3000, 0.3)
	defer rec.Release()
	_, meta := readBack(t, writeFile(t, s, Options{Codec: Zstd, RowGroupRows: 1200, PageRows: 500}, rec))

	wantTypes := map[string]string{
		"time": "INT64 Timestamp(isAdjustedToUTC=true, timeUnit=milliseconds, is_from_converted_type=false, force_set_converted_type=false)",
		"ms":   "INT64 Timestamp(isAdjustedToUTC=false, timeUnit=milliseconds, is_from_converted_type=false, force_set_converted_type=false)",
		"us":   "INT64 Timestamp(isAdjustedToUTC=true, timeUnit=microseconds, is_from_converted_type=false, force_set_converted_type=false)",
		"ns":   "INT64 Timestamp(isAdjustedToUTC=true, timeUnit=nanoseconds, is_from_converted_type=false, force_set_converted_type=false)",
		"name": "BYTE_ARRAY String", "maybe": "BYTE_ARRAY String",
		"u8": "INT32 Int(bitWidth=8, isSigned=false)", "u16": "INT32 Int(bitWidth=16, isSigned=false)",
		"u32": "INT32 Int(bitWidth=32, isSigned=false)", "u64": "INT64 Int(bitWidth=64, isSigned=false)",
		"i8": "INT32 Int(bitWidth=8, isSigned=true)", "i16": "INT32 Int(bitWidth=16, isSigned=true)",
		"i32": "INT32 Int(bitWidth=32, isSigned=true)", "i64": "INT64 Int(bitWidth=64, isSigned=true)",
		"f32": "FLOAT None", "f64": "DOUBLE None",
	}
	// The converted types older readers go by.
	wantConv := map[string]string{
		"time": "TIMESTAMP_MILLIS", "ms": "NONE", "us": "TIMESTAMP_MICROS", "ns": "NONE",
		"name": "UTF8", "maybe": "UTF8", "u8": "UINT_8", "u16": "UINT_16", "u32": "UINT_32", "u64": "UINT_64",
		"i8": "INT_8", "i16": "INT_16", "i32": "INT_32", "i64": "INT_64", "f32": "NONE", "f64": "NONE",
	}
	sc := meta.Schema
	for i := range sc.NumColumns() {
		col := sc.Column(i)
		got := fmt.Sprintf("%s %s", col.PhysicalType(), col.LogicalType())
		if conv := col.ConvertedType().String(); conv != wantConv[col.Name()] {
			t.Errorf("column %s: converted type %s, want %s", col.Name(), conv, wantConv[col.Name()])
		}
		if got != wantTypes[col.Name()] {
			t.Errorf("column %s: %s, want %s", col.Name(), got, wantTypes[col.Name()])
		}
		f, _ := s.FieldsByName(col.Name())
		if wantRep := map[bool]string{false: "required", true: "optional"}[f[0].Nullable]; !strings.EqualFold(col.SchemaNode().RepetitionType().String(), wantRep) {
			t.Errorf("column %s: %s, want %s", col.Name(), col.SchemaNode().RepetitionType(), wantRep)
		}
	}

	row := 0
	for g := range meta.NumRowGroups() {
		rg := meta.RowGroup(g)
		n := int(rg.NumRows())
		for j := range s.NumFields() {
			cc, err := rg.ColumnChunk(j)
			if err != nil {
				t.Fatal(err)
			}
			st, err := cc.Statistics()
			if err != nil || st == nil {
				t.Fatalf("row group %d column %d: no statistics (%v)", g, j, err)
			}
			part := rec.Column(j).(arrow.Array)
			nulls := 0
			var lo, hi string
			first := true
			for i := row; i < row+n; i++ {
				if part.IsNull(i) {
					nulls++
					continue
				}
				v := statValue(part, i)
				if v == "" {
					continue
				}
				if first || less(part, v, lo) {
					lo = v
				}
				if first || less(part, hi, v) {
					hi = v
				}
				first = false
			}
			if st.NullCount() != int64(nulls) {
				t.Errorf("row group %d %s: null count %d, want %d", g, s.Field(j).Name, st.NullCount(), nulls)
			}
			if lo == "" {
				if st.HasMinMax() && statValue(part, row) != "" {
					t.Errorf("row group %d %s: min/max without values", g, s.Field(j).Name)
				}
				continue
			}
			if !st.HasMinMax() {
				t.Errorf("row group %d %s: no min/max", g, s.Field(j).Name)
				continue
			}
			gotLo, gotHi := encodedStat(st.EncodeMin(), part), encodedStat(st.EncodeMax(), part)
			if gotLo != lo || gotHi != hi {
				t.Errorf("row group %d %s: min %s max %s, want %s %s", g, s.Field(j).Name, gotLo, gotHi, lo, hi)
			}
		}
		row += n
	}
}

// statValue is value i of an integer or time array as a decimal string
// in its Parquet value (times in the unit written), "" for types without
// min/max statistics.
func statValue(a arrow.Array, i int) string {
	switch a := a.(type) {
	case *array.Timestamp:
		v := int64(a.Value(i))
		if a.DataType().(*arrow.TimestampType).Unit == arrow.Second {
			v *= 1000
		}
		return fmt.Sprint(v)
	case *array.Uint8, *array.Uint16, *array.Uint32, *array.Uint64, *array.Int8, *array.Int16, *array.Int32, *array.Int64:
		return a.ValueStr(i)
	case *array.String:
		return "s" + a.Value(i) // never "", and orders as the value does
	}
	return ""
}

// less compares two statValues in the order of a's type.
func less(a arrow.Array, x, y string) bool {
	switch a.(type) {
	case *array.String:
		return x < y
	case *array.Uint8, *array.Uint16, *array.Uint32, *array.Uint64:
		var u, v uint64
		fmt.Sscan(x, &u)
		fmt.Sscan(y, &v)
		return u < v
	}
	var u, v int64
	fmt.Sscan(x, &u)
	fmt.Sscan(y, &v)
	return u < v
}

// encodedStat decodes a plain-encoded statistic of a's column.
func encodedStat(b []byte, a arrow.Array) string {
	if _, ok := a.(*array.String); ok {
		return "s" + string(b)
	}
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	switch a.(type) {
	case *array.Uint8, *array.Uint16, *array.Uint32, *array.Uint64:
		return fmt.Sprint(u)
	case *array.Int8, *array.Int16, *array.Int32:
		return fmt.Sprint(int32(uint32(u)))
	}
	return fmt.Sprint(int64(u))
}

// TestEmptyAndAllNull: a file without rows and a column without values
// read back as such.
func TestEmptyAndAllNull(t *testing.T) {
	s := testSchema()
	tbl, meta := readBack(t, writeFile(t, s, Options{Codec: Snappy}))
	if tbl.NumRows() != 0 || meta.NumRowGroups() != 0 {
		t.Errorf("empty file: %d rows, %d row groups", tbl.NumRows(), meta.NumRowGroups())
	}
	checkSchema(t, tbl.Schema(), s)

	rec := randomRecord(rand.New(rand.NewPCG(7, 8)), s, 300, 1)
	defer rec.Release()
	tbl, _ = readBack(t, writeFile(t, s, Options{Codec: Zstd, PageRows: 100}, rec))
	if got, want := tableCells(tbl), recordsCells([]arrow.RecordBatch{rec}); !slices.Equal(got, want) {
		t.Errorf("all-null columns read back differently")
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(b []byte) (int, error) {
	if f.after < len(b) {
		n := max(f.after, 0)
		f.after = 0
		return n, errors.New("disk full")
	}
	f.after -= len(b)
	return len(b), nil
}

// TestWriterErrors: unsupported types, a record of another schema, a
// failing destination and use after Close give errors, not panics.
func TestWriterErrors(t *testing.T) {
	var buf bytes.Buffer
	bad := arrow.NewSchema([]arrow.Field{{Name: "ok", Type: arrow.PrimitiveTypes.Uint64}, {Name: "flag", Type: arrow.FixedWidthTypes.Boolean}}, nil)
	if _, err := NewWriter(&buf, bad, Options{}); err == nil || !strings.Contains(err.Error(), `column "flag": type bool is not supported`) {
		t.Errorf("boolean column: %v", err)
	}
	if _, err := NewWriter(&buf, arrow.NewSchema(nil, nil), Options{}); err == nil {
		t.Error("a schema without columns was accepted")
	}
	if _, err := NewWriter(&buf, testSchema(), Options{Codec: 9}); err == nil {
		t.Error("codec 9 was accepted")
	}

	s := testSchema()
	r := rand.New(rand.NewPCG(1, 1))
	rec := randomRecord(r, s, 2000, 0.1)
	defer rec.Release()
	w, err := NewWriter(&buf, arrow.NewSchema(s.Fields()[:3], nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err == nil || !strings.Contains(err.Error(), "differs from the file's") {
		t.Errorf("record of another schema: %v", err)
	}

	for _, after := range []int{0, 2, 100, 5000} {
		w, err := NewWriter(&failWriter{after: after}, s, Options{Codec: Zstd, RowGroupRows: 500})
		if err == nil {
			err = w.Write(rec)
			if err == nil {
				err = w.Close()
			} else {
				w.Close()
			}
		}
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("destination failing after %d bytes: %v", after, err)
		}
	}

	w, err = NewWriter(&buf, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// TestDictionaryFallback: columns whose distinct values outgrow a chunk's
// dictionary go on in PLAIN pages within the same chunk; the file reads
// back the same, and the footer names both encodings. Indices of up to
// 18 bits, long bit-packed runs and long repeats all pass the reader.
func TestDictionaryFallback(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "few", Type: arrow.PrimitiveTypes.Uint16},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, s)
	defer b.Release()
	r := rand.New(rand.NewPCG(11, 12))
	const n = 200000
	for i := range n {
		if i%1000 < 3 {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("host-%08d", r.IntN(1<<30)))
		}
		b.Field(1).(*array.Uint64Builder).Append(uint64(i) * 7919)
		// Runs of 1 to 20 equal values, some across group boundaries.
		b.Field(2).(*array.Uint16Builder).Append(uint16(i / (1 + i%20)))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	data := writeFile(t, s, Options{Codec: Zstd, PageRows: 10000}, rec)
	tbl, meta := readBack(t, data)
	if got, want := tableCells(tbl), recordsCells([]arrow.RecordBatch{rec}); !slices.Equal(got, want) {
		t.Fatal("values differ")
	}
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	rg := meta.RowGroup(0)
	for j, wantPlain := range []bool{true, true, false} {
		cc, err := rg.ColumnChunk(j)
		if err != nil {
			t.Fatal(err)
		}
		encs := fmt.Sprint(cc.Encodings())
		if !cc.HasDictionaryPage() || !strings.Contains(encs, "RLE_DICTIONARY") {
			t.Errorf("column %s: encodings %s, dictionary page %v: want a dictionary", s.Field(j).Name, encs, cc.HasDictionaryPage())
		}
		if plain := strings.Contains(encs, "PLAIN"); !plain {
			t.Errorf("column %s: encodings %s lack PLAIN", s.Field(j).Name, encs)
		}
		// The data pages: dictionary-encoded, then PLAIN once the
		// dictionary is full.
		pr, err := pf.RowGroup(0).GetColumnPageReader(j)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for pr.Next() {
			if pg := pr.Page(); pg.Type().String() == "DATA_PAGE" {
				if e := pg.Encoding().String(); len(kinds) == 0 || kinds[len(kinds)-1] != e {
					kinds = append(kinds, e)
				}
			}
		}
		if err := pr.Err(); err != nil {
			t.Fatal(err)
		}
		want := "[RLE_DICTIONARY]"
		if wantPlain {
			want = "[RLE_DICTIONARY PLAIN]"
		}
		if fmt.Sprint(kinds) != want {
			t.Errorf("column %s: data pages %v, want %s", s.Field(j).Name, kinds, want)
		}
	}
}
