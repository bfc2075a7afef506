package gen_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowsql/flowsql/bench/gen"
	"github.com/flowsql/flowsql/columnar"
)

// storeCodecs are the buffer compressions compared by BenchmarkStoreBytesPerRow;
// "none" is the baseline, "default" what the store uses.
var storeCodecs = []struct {
	name   string
	codecs columnar.Codecs
}{
	{"none", columnar.Codecs{}},
	{"lz4", columnar.Codecs{Dict: columnar.CodecLZ4, Dict4: columnar.CodecLZ4, Codes: columnar.CodecLZ4, Keys: columnar.CodecLZ4, Bytes: columnar.CodecLZ4, Packets: columnar.CodecLZ4}},
	{"zstd", columnar.Codecs{Dict: columnar.CodecZstd, Dict4: columnar.CodecZstd, Codes: columnar.CodecZstd, Keys: columnar.CodecZstd, Bytes: columnar.CodecZstd, Packets: columnar.CodecZstd}},
	{"default", columnar.DefaultCodecs()},
}

// BenchmarkStoreBytesPerRow writes two hours of the default dataset (one
// interface, 24 blocks of about 20,000 flows) through the real store, once
// per op, and reports the committed data-file bytes per stored row (B/row;
// the target is <= 12), split into the address dictionaries (dict-B/row),
// the address codes (codes-B/row), dport and proto (keys-B/row) and the four
// counters (ctr-B/row), plus index.db per row (index-B/row). The codec
// "none" is the baseline of the others.
//
//	go test -run='^$' -bench=StoreBytesPerRow -benchtime=1x -count=6 ./bench/gen/ > new.txt
//	go tool benchstat -col /codecs new.txt
func BenchmarkStoreBytesPerRow(b *testing.B) {
	cfg := gen.Config{Seed: 1, Duration: 2 * time.Hour, Start: gen.DefaultStart.Add(10 * time.Hour)}
	blocks := pregenerate(b, cfg)
	for _, c := range storeCodecs {
		b.Run("codecs="+c.name, func(b *testing.B) {
			var dir string
			b.ReportAllocs()
			for b.Loop() {
				dir = b.TempDir()
				db, err := columnar.Open(context.Background(), dir, &columnar.Options{NoSync: true, Codecs: &c.codecs})
				if err != nil {
					b.Fatal(err)
				}
				for _, blk := range blocks {
					if err := db.Write(context.Background(), blk); err != nil {
						b.Fatal(err)
					}
				}
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
			}
			reportDisk(b, dir)
		})
	}
}

// pregenerate returns every block of cfg, copied.
func pregenerate(b *testing.B, cfg gen.Config) []*columnar.Block {
	g, err := gen.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var out []*columnar.Block
	for {
		blk := &columnar.Block{}
		ok, err := g.Next(blk)
		if err != nil {
			b.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, blk)
	}
}

// reportDisk reports the bytes per row of the store in dir.
func reportDisk(b *testing.B, dir string) {
	ctx := context.Background()
	db, err := columnar.Open(ctx, dir, &columnar.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	sums, err := db.Summary(ctx)
	if err != nil {
		b.Fatal(err)
	}
	metas, err := db.Blocks(ctx, columnar.Selector{})
	if err != nil {
		b.Fatal(err)
	}
	var rows, disk int64
	for _, s := range sums {
		rows += int64(s.Flows)
		disk += s.DiskBytes
	}
	var parts [4]int64 // dict, codes, keys, counters
	for _, m := range metas {
		for _, ch := range m.Chunks {
			i := 3
			switch {
			case ch.Part.IsDict():
				i = 0
			case ch.Column.IsAddr():
				i = 1
			case ch.Column == columnar.ColDPort || ch.Column == columnar.ColProto:
				i = 2
			}
			parts[i] += ch.Length
		}
	}
	fi, err := os.Stat(filepath.Join(dir, columnar.IndexFileName))
	if err != nil {
		b.Fatal(err)
	}
	r := float64(rows)
	b.ReportMetric(float64(disk)/r, "B/row")
	b.ReportMetric(float64(parts[0])/r, "dict-B/row")
	b.ReportMetric(float64(parts[1])/r, "codes-B/row")
	b.ReportMetric(float64(parts[2])/r, "keys-B/row")
	b.ReportMetric(float64(parts[3])/r, "ctr-B/row")
	b.ReportMetric(float64(fi.Size())/r, "index-B/row")
}
