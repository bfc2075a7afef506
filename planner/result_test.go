package planner

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestResultRecords checks the Arrow form of results: types, names,
// nulls, and batches bounded in bytes that together hold every row.
func TestResultRecords(t *testing.T) {
	db := openSmall(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	res := run(t, db, "SELECT bucket(time, 1h) AS t, iface, sip, dport, proto, sum(bytes) AS b, avg(bytes) GROUP BY t, iface, sip, dport, proto", testOptions(t))
	recs, err := res.Records(mem, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	if len(recs) < 2 {
		t.Fatalf("%d rows in %d batches; want several of at most 4 KiB", res.NumRows(), len(recs))
	}
	want := []arrow.DataType{&arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}, arrow.BinaryTypes.String, arrow.BinaryTypes.String,
		arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Uint64, arrow.PrimitiveTypes.Float64}
	rows := 0
	for _, r := range recs {
		for i, f := range r.Schema().Fields() {
			if !arrow.TypeEqual(f.Type, want[i]) || f.Name != res.Columns[i].Name {
				t.Fatalf("field %d: %s %s, want %s %s", i, f.Name, f.Type, res.Columns[i].Name, want[i])
			}
		}
		if r.NumRows() > 4096/20 {
			t.Fatalf("batch of %d rows exceeds the byte bound", r.NumRows())
		}
		sips := r.Column(2).(*array.String)
		for i := range int(r.NumRows()) {
			if sips.Value(i) != res.Columns[2].Addrs[rows+i].String() {
				t.Fatalf("row %d: sip %q, want %s", rows+i, sips.Value(i), res.Columns[2].Addrs[rows+i])
			}
		}
		rows += int(r.NumRows())
	}
	if rows != res.NumRows() {
		t.Fatalf("batches hold %d rows, result %d", rows, res.NumRows())
	}

	empty := run(t, db, "SELECT count(*), min(dport) WHERE sip = 1.2.3.4", testOptions(t))
	rdr, err := empty.RecordReader(mem, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if !rdr.Next() {
		t.Fatal("no batch")
	}
	r := rdr.RecordBatch()
	if r.NumRows() != 1 || r.Column(0).(*array.Uint64).Value(0) != 0 || !r.Column(1).IsNull(0) || !r.Schema().Field(1).Nullable {
		t.Fatalf("empty aggregate: %v", r)
	}
}
