package main

import (
	"context"
	"io"
	"path/filepath"
	"testing"
)

// Export throughput against its floor, the planner listing the same rows
// (SELECT * as CSV to io.Discard). Compare revisions with
//
//	bench/compare.sh BASE_REF ./cmd/flowsql   (BENCH='Export|QueryListing')
//
// or go test -run '^$' -bench 'Export|QueryListing' -count 6 ./cmd/flowsql
// > new.txt and go tool benchstat old.txt new.txt.

// benchStore generates two hours of one interface at 20,000 flows per
// block (about 450,000 rows) once per benchmark.
func benchStore(b *testing.B) (db string, rows int) {
	b.Helper()
	db = filepath.Join(b.TempDir(), "db")
	code, out, errOut := runCLI(b, "--db", db, "gen", "--hours", "2", "--ifaces", "eth0", "--flows", "20000", "--seed", "1", "--nosync")
	if code != 0 {
		b.Fatalf("gen: %s%s", out, errOut)
	}
	rows = len(csvLines(b, db, "SELECT *")) - 1
	return db, rows
}

func csvLines(b *testing.B, db, q string) []string {
	b.Helper()
	var lines []string
	code, out, errOut := runCLI(b, "--db", db, "query", "--format", "csv", q)
	if code != 0 {
		b.Fatalf("query: %s", errOut)
	}
	start := 0
	for i := range len(out) {
		if out[i] == '\n' {
			lines = append(lines, out[start:i])
			start = i + 1
		}
	}
	return lines
}

func BenchmarkExport(b *testing.B) {
	db, rows := benchStore(b)
	for _, format := range []string{"parquet", "arrow", "csv"} {
		b.Run(format, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "flows."+format)
			b.ReportAllocs()
			for b.Loop() {
				if code := run(context.Background(), []string{"--db", db, "export", "--hostname", "h", out}, io.Discard, io.Discard); code != 0 {
					b.Fatal("export failed")
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkQueryListing is the baseline: the planner lists every row and
// the CSV writer formats it, with nothing written to a file.
func BenchmarkQueryListing(b *testing.B) {
	db, rows := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		if code := run(context.Background(), []string{"--db", db, "query", "--format", "csv", "--hostname", "h", "SELECT *"}, io.Discard, io.Discard); code != 0 {
			b.Fatal("query failed")
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
