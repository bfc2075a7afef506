package columnar_test

import (
	"context"
	"testing"

	"github.com/flowsql/flowsql/columnar"
)

// Benchmarks of the index-only operations, which open index.db for the
// length of one operation (FORMAT.md "Writer and readers"). The baseline is
// the same call before that change, when the index stayed open for the DB's
// lifetime. Compare with:
//
//	go test -run='^$' -bench='IndexOp' -count=8 ./columnar/ > new.txt
//	benchstat old.txt new.txt

// benchIndexStore writes n small blocks (one day of 5-minute blocks is 288)
// on one interface and returns the store, open read-write or read-only.
func benchIndexStore(b *testing.B, n int, readOnly bool) *columnar.DB {
	dir := b.TempDir()
	db, err := columnar.Open(context.Background(), dir, &columnar.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	g := newFlowGen(3)
	for i := range n {
		if err := db.Write(context.Background(), g.block("eth0", t0+int64(i)*300, 10)); err != nil {
			b.Fatal(err)
		}
	}
	if readOnly {
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if db, err = columnar.Open(context.Background(), dir, &columnar.Options{ReadOnly: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkIndexOp measures one index-only call per op on stores of 1 and
// 288 blocks (a day), opened read-only as `flowsql list` does.
func BenchmarkIndexOp(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1, 288} {
		db := benchIndexStore(b, n, true)
		b.Run("op=Interfaces/blocks="+itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.Interfaces(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("op=Blocks/blocks="+itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.Blocks(ctx, columnar.Selector{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("op=Summary/blocks="+itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := db.Summary(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIndexOpWriteEmpty writes one empty block per op (fsync off): no
// data file, only the index check and commit, so the index open is the
// largest share of the cost.
func BenchmarkIndexOpWriteEmpty(b *testing.B) {
	ctx := context.Background()
	db, err := columnar.Open(ctx, b.TempDir(), &columnar.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		if err := db.Write(ctx, &columnar.Block{Iface: "eth0", Start: t0 + i*300, End: t0 + i*300 + 300}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}
