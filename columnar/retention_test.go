package columnar_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

const day = 86400

// fiveDays stores two blocks a day on two interfaces for five days
// (2025-03-10 .. 2025-03-14), plus an empty block on the first day.
func fiveDays(t *testing.T, db *columnar.DB) {
	g := newFlowGen(31)
	for d := range int64(5) {
		for _, iface := range []string{"eth0", "eth1"} {
			mustWrite(t, db, g.block(iface, t0+d*day, 200))
			mustWrite(t, db, g.block(iface, t0+d*day+300, 200))
		}
	}
	mustWrite(t, db, &columnar.Block{Iface: "lo", Start: t0, End: t0 + 300, NonIP: 3})
}

func days(ms []columnar.BlockMeta) []string {
	var out []string
	for _, m := range ms {
		d := time.Unix(m.Start, 0).UTC().Format("0102")
		if len(out) == 0 || out[len(out)-1] != d {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestRetainByAge(t *testing.T) {
	dir := t.TempDir()
	db := columnartest.OpenDir(t, dir, nil)
	fiveDays(t, db)
	now := time.Unix(t0+4*day, 0).UTC().Add(2 * time.Hour) // 2025-03-14 12:00
	// Days ending at or before 2025-03-12 12:00 go: the 10th and 11th.
	rep, err := db.Retain(context.Background(), columnar.RetentionPolicy{MaxAge: 48 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Days) != 2 || rep.Days[0] != time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC) || rep.Files != 4 || rep.Blocks != 9 || rep.OverBudget {
		t.Errorf("report %+v", rep)
	}
	if got := days(mustBlocks(t, db, columnar.Selector{})); !slices.Equal(got, []string{"0312", "0313", "0314"}) {
		t.Errorf("days left %v", got)
	}
	for _, rel := range []string{"data/eth0/20250310.fsc", "data/eth1/20250311.fsc"} {
		if _, err := os.Stat(filepath.Join(dir, rel)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s not removed: %v", rel, err)
		}
	}
	if ifaces, _ := db.Interfaces(context.Background()); slices.Contains(ifaces, "lo") {
		t.Errorf("interface with no blocks left is still listed: %v", ifaces)
	}
	// Idempotent.
	if rep, err := db.Retain(context.Background(), columnar.RetentionPolicy{MaxAge: 48 * time.Hour, Now: now}); err != nil || len(rep.Days) != 0 {
		t.Errorf("second run: %+v, %v", rep, err)
	}
}

func TestRetainBySize(t *testing.T) {
	db := columnartest.Open(t, nil)
	fiveDays(t, db)
	s, err := db.Summary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range s {
		total += e.DiskBytes
	}
	perDay := total / 5
	rep, err := db.Retain(context.Background(), columnar.RetentionPolicy{MaxBytes: total - perDay - perDay/2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Days) != 2 || rep.Remaining > total-perDay-perDay/2 || rep.Bytes+rep.Remaining != total {
		t.Errorf("report %+v (total %d)", rep, total)
	}
	if got := days(mustBlocks(t, db, columnar.Selector{})); !slices.Equal(got, []string{"0312", "0313", "0314"}) {
		t.Errorf("days left %v", got)
	}
	// A budget below one day keeps the newest day and says so.
	rep, err = db.Retain(context.Background(), columnar.RetentionPolicy{MaxBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OverBudget || len(rep.Days) != 2 {
		t.Errorf("report %+v", rep)
	}
	if got := days(mustBlocks(t, db, columnar.Selector{})); !slices.Equal(got, []string{"0314"}) {
		t.Errorf("days left %v", got)
	}
	// Writing continues after retention, also into a dropped day.
	mustWrite(t, db, newFlowGen(1).block("eth0", t0, 10))
}

// TestRetainCrashAfterIndex: if the process dies after the index commit and
// before the files are removed, the next Open removes them.
func TestRetainCrashAfterIndex(t *testing.T) {
	dir := t.TempDir()
	db := columnartest.OpenDir(t, dir, nil)
	fiveDays(t, db)
	keep := filepath.Join(dir, "data/eth0/20250310.fsc")
	saved, err := os.ReadFile(keep)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Retain(context.Background(), columnar.RetentionPolicy{MaxAge: 24 * time.Hour, Now: time.Unix(t0+2*day, 0)}); err != nil {
		t.Fatal(err)
	}
	columnartest.MustCheck(t, db)
	if err := os.WriteFile(keep, saved, 0o644); err != nil { // as if never removed
		t.Fatal(err)
	}
	db = columnartest.OpenDir(t, dir, nil)
	if got := db.Recovered().RemovedFiles; !slices.Equal(got, []string{"data/eth0/20250310.fsc"}) {
		t.Errorf("recovery removed %v", got)
	}
}

func TestRetainRejectsNegative(t *testing.T) {
	db := columnartest.Open(t, nil)
	if _, err := db.Retain(context.Background(), columnar.RetentionPolicy{MaxAge: -time.Hour}); err == nil {
		t.Error("negative age accepted")
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"0": 0, "4096": 4096, "10GiB": 10 << 30, "10gib": 10 << 30, "500MB": 500e6, "1.5G": 3 << 29,
		"2k": 2048, "2kB": 2000, "1TiB": 1 << 40, "3 MiB": 3 << 20, " 7b ": 7, "1PB": 1e15,
	}
	for in, want := range good {
		if got, err := columnar.ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1GiB", "10 parsecs", "1.2.3MB", "1e3", "9999999PiB", "NaN"} {
		if got, err := columnar.ParseSize(in); !errors.Is(err, columnar.ErrBadSize) {
			t.Errorf("ParseSize(%q) = %d, %v; want ErrBadSize", in, got, err)
		}
	}
}

func TestParseAge(t *testing.T) {
	good := map[string]time.Duration{
		"0": 0, "30d": 30 * 24 * time.Hour, "12h": 12 * time.Hour, "2w": 14 * 24 * time.Hour,
		"90m": 90 * time.Minute, "45s": 45 * time.Second, "1d12h": 36 * time.Hour, "1.5h": 90 * time.Minute, "7D": 7 * 24 * time.Hour,
	}
	for in, want := range good {
		if got, err := columnar.ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "30", "d", "-1d", "3y", "1ms", "99999999999w", "1d 2h"} {
		if got, err := columnar.ParseAge(in); !errors.Is(err, columnar.ErrBadAge) {
			t.Errorf("ParseAge(%q) = %v, %v; want ErrBadAge", in, got, err)
		}
	}
}
