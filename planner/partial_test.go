package planner

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

// TestPartialsThroughArrow splits the data into 3 stores (as 3 hosts
// would hold it), aggregates each, ships the partials as Arrow record
// batches, merges them and checks the result equals one pass over all the
// data. Sketches merge exactly, so count(DISTINCT) agrees exactly too.
func TestPartialsThroughArrow(t *testing.T) {
	cfg := smallConfig()
	all := columnartest.Open(t, nil)
	genStore(t, all, cfg)
	parts := []*columnar.DB{columnartest.Open(t, nil), columnartest.Open(t, nil), columnartest.Open(t, nil)}
	genSplit(t, parts, cfg)

	queries := []string{
		"SELECT sip, dip, dport, proto, sum(bytes) AS b GROUP BY sip, dip, dport, proto ORDER BY b DESC LIMIT 10",
		"SELECT dport, proto, sum(packets), count(*), avg(bytes_in), min(time), max(bytes) WHERE dip IN 10.0.0.0/8 GROUP BY dport, proto ORDER BY 1, 2",
		"SELECT bucket(time, 1h) AS t, iface, host, count(DISTINCT sip), count(DISTINCT dip), sum(bytes) GROUP BY t, iface, host ORDER BY t, iface",
		"SELECT sip, count(DISTINCT dip) AS n GROUP BY sip ORDER BY n DESC, sip LIMIT 5",
		"SELECT count(*), sum(bytes), count(DISTINCT dport), min(dport), max(dport)",
		"SELECT count(*), min(dport) WHERE sip = 1.2.3.4",
		"SELECT dip, sum(bytes) GROUP BY dip LIMIT 7",
		"SELECT time, iface, sip, dip, bytes WHERE dport = 22 ORDER BY bytes DESC, time LIMIT 12",
		"SELECT sip, dport, packets WHERE packets > 5000 ORDER BY sip, dport, packets",
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	for qi, q := range queries {
		t.Run("", func(t *testing.T) {
			want := rowsOf(run(t, all, q, testOptions(t)))
			coord := prepare(t, q, testOptions(t))
			split := 1 << 30
			if qi%2 == 0 {
				split = 8 // partitioned tables on both sides
			}
			coord.splitAt = split
			var merged []*Partial
			for _, db := range parts {
				host := prepare(t, q, testOptions(t))
				host.splitAt = split
				part, err := host.ExecutePartial(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				recs, err := part.ToRecords(mem, 2048)
				part.Release()
				if err != nil {
					t.Fatal(err)
				}
				x, err := coord.MergeRecords(recs...)
				for _, r := range recs {
					r.Release()
				}
				if err != nil {
					t.Fatal(err)
				}
				merged = append(merged, x)
			}
			final, err := Merge(merged...)
			if err != nil {
				t.Fatal(err)
			}
			defer final.Release()
			res, err := coord.Finish(final)
			if err != nil {
				t.Fatal(err)
			}
			stmt := coord.Statement()
			unordered := len(stmt.OrderBy) == 0 && stmt.Limit == nil
			compareRows(t, q, rowsOf(res), want, make([]bool, len(stmt.Items)), unordered)
			if res.Stats.BlocksTotal != 144 {
				t.Errorf("merged stats count %d blocks, want 144", res.Stats.BlocksTotal)
			}
		})
	}
}

// TestMergeRecordsRejects checks that partials of another plan and
// damaged sketches are refused with clear errors.
func TestMergeRecordsRejects(t *testing.T) {
	db := openSmall(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	p := prepare(t, "SELECT dport, count(DISTINCT sip) GROUP BY dport", testOptions(t))
	part, err := p.ExecutePartial(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := part.ToRecords(mem, 0)
	part.Release()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	other := prepare(t, "SELECT dport, count(DISTINCT dip) GROUP BY dport", testOptions(t))
	if _, err := other.MergeRecords(recs...); !errors.Is(err, ErrPlanMismatch) {
		t.Fatalf("other plan: %v", err)
	}
	// The same batch with one sketch replaced by garbage.
	rec := recs[0]
	b := array.NewRecordBuilder(mem, rec.Schema())
	defer b.Release()
	ports := rec.Column(0).(*array.Uint16)
	sk := rec.Column(1).(*array.Binary)
	for i := range int(rec.NumRows()) {
		b.Field(0).(*array.Uint16Builder).Append(ports.Value(i))
		v := sk.Value(i)
		if i == 0 {
			v = []byte{2, 12, 1, 2, 3}
		}
		b.Field(1).(*array.BinaryBuilder).Append(v)
	}
	bad := b.NewRecordBatch()
	defer bad.Release()
	if _, err := p.MergeRecords(bad); !errors.Is(err, ErrPartial) {
		t.Fatalf("bad sketch: %v", err)
	}
	// A schema without the plan's metadata.
	plain := array.NewRecordBatch(arrow.NewSchema(rec.Schema().Fields(), nil), rec.Columns(), rec.NumRows())
	defer plain.Release()
	if _, err := p.MergeRecords(plain); !errors.Is(err, ErrPlanMismatch) {
		t.Fatalf("no metadata: %v", err)
	}
	x, err := p.MergeRecords(recs...)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Release()
	if _, err := other.Finish(x); !errors.Is(err, ErrPlanMismatch) {
		t.Fatalf("finish with another plan: %v", err)
	}
}
