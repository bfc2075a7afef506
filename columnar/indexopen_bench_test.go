package columnar

import (
	"context"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkIndexSession measures what opening index.db per operation costs
// (indexopen.go): one read transaction on a handle kept open for the DB's
// lifetime (the baseline: the design before, which shut other processes
// out) against a read-only session and a read-write session (commit of an
// empty transaction, fsync off) that open and close the file around it.
// The index holds one small interface bucket. Compare with:
//
//	go test -run='^$' -bench=IndexSession -count=8 ./columnar/ | benchstat -col /mode -
func BenchmarkIndexSession(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, b.TempDir(), &Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Write(ctx, &Block{Iface: "eth0", Start: 1_741_600_800, End: 1_741_600_800 + 300}); err != nil {
		b.Fatal(err)
	}
	read := func(tx *bolt.Tx) error {
		if tx.Bucket(bucketBlocks).Bucket([]byte("eth0")) == nil {
			b.Fatal("no eth0 bucket")
		}
		return nil
	}
	b.Run("mode=kept-open-view", func(b *testing.B) {
		kept, err := bolt.Open(db.indexPath(), 0o644, &bolt.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		defer kept.Close()
		b.ReportAllocs()
		for b.Loop() {
			if err := kept.View(read); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mode=session-view", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := db.view(ctx, read); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("mode=session-update", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := db.update(ctx, read); err != nil {
				b.Fatal(err)
			}
		}
	})
}
