package main

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowsql/flowsql/columnar"
)

func TestGenCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "--db", dir, "gen", "--hours", "1", "--flows", "300", "--ifaces", "eth0,eth1",
		"--seed", "9", "--start", "2025-03-12T10:02:00Z", "--nosync")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	m := regexp.MustCompile(`wrote 24 blocks \(eth0, eth1, 2025-03-12 10:00 \.\. 2025-03-12 11:00 UTC\): (\d+) rows`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "bytes per row") {
		t.Fatalf("output lacks the summary:\n%s", out)
	}
	reported, _ := strconv.Atoi(m[1])

	ctx := context.Background()
	db, err := columnar.Open(ctx, dir, &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if errs := db.Check(ctx); len(errs) > 0 {
		t.Fatalf("check: %v", errs)
	}
	metas, err := db.Blocks(ctx, columnar.Selector{})
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 24 {
		t.Fatalf("store holds %d blocks, want 24", len(metas))
	}
	first := time.Date(2025, 3, 12, 10, 0, 0, 0, time.UTC).Unix()
	rows, perIface := 0, map[string]int{}
	for i, meta := range metas {
		if want := first + int64(i%12)*300; meta.Start != want || meta.End != want+300 {
			t.Errorf("block %d of %s: [%d, %d), want [%d, %d)", i, meta.Iface, meta.Start, meta.End, want, want+300)
		}
		// Mid-morning on a Wednesday: activity is above average.
		if meta.Rows < 300 || meta.Rows > 500 {
			t.Errorf("block %s@%d has %d rows, want 300..500", meta.Iface, meta.Start, meta.Rows)
		}
		b, err := db.ReadBlock(ctx, &metas[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		if b.Len() != meta.Rows {
			t.Fatalf("block %s@%d: read %d rows, index says %d", meta.Iface, meta.Start, b.Len(), meta.Rows)
		}
		rows += meta.Rows
		perIface[meta.Iface]++
	}
	if rows != reported || perIface["eth0"] != 12 || perIface["eth1"] != 12 {
		t.Fatalf("store: %d rows in %v; command reported %d rows", rows, perIface, reported)
	}
}

func TestGenCommandErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--flows", "0"}, "--flows 0"},
		{[]string{"--hours", "0"}, "--hours 0"},
		{[]string{"--hours", "NaN"}, "--hours NaN"},
		{[]string{"--start", "yesterday"}, "--start"},
		{[]string{"--interval", "90ms"}, "Interval"},
		{[]string{"--ifaces", "eth0,eth0"}, "distinct names"},
		{[]string{"extra"}, "unknown command"},
	} {
		args := append([]string{"--db", dir, "gen", "--hours", "0.5", "--flows", "50", "--nosync"}, tc.args...)
		code, out, errOut := runCLI(t, args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 1 and %q", tc.args, code, errOut, out, tc.want)
		}
	}
	// The same range twice: the store refuses to replace blocks.
	args := []string{"--db", dir, "gen", "--hours", "0.5", "--flows", "50", "--nosync"}
	if code, out, errOut := runCLI(t, args...); code != 0 {
		t.Fatalf("first run: exit %d: %s%s", code, out, errOut)
	}
	code, _, errOut := runCLI(t, args...)
	if code != 1 || !strings.Contains(errOut, "already holds this time range") {
		t.Fatalf("second run: exit %d, stderr %q; want a clear refusal", code, errOut)
	}
}
