package gen_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowsql/flowsql/bench/gen"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

// small is a quick dataset: two interfaces, two hours, 2,000 flows a block.
var small = gen.Config{Seed: 7, Duration: 2 * time.Hour, Ifaces: []string{"eth0", "eth1"}, FlowsPerBlock: 2000}

func TestDeterministic(t *testing.T) {
	a, b := collect(t, small), collect(t, small)
	if len(a) != 48 || len(b) != len(a) {
		t.Fatalf("got %d and %d blocks, want 48 (2 interfaces x 24)", len(a), len(b))
	}
	for i := range a {
		if !sameBlock(a[i], b[i]) {
			t.Fatalf("block %d (%s@%d) differs between two runs of the same config", i, a[i].Iface, a[i].Start)
		}
	}
	other := small
	other.Seed++
	c := collect(t, other)
	for i := range a {
		if sameBlock(a[i], c[i]) {
			t.Fatalf("block %d is the same for seeds %d and %d", i, small.Seed, other.Seed)
		}
	}
}

// TestInterfaceIndependent checks that an interface's data depends on its
// name, not on the other interfaces.
func TestInterfaceIndependent(t *testing.T) {
	alone := small
	alone.Ifaces = []string{"eth1"}
	a := collect(t, alone)
	both := collect(t, small)
	for i, b := range a {
		if !sameBlock(b, both[2*i+1]) {
			t.Fatalf("eth1 block %d differs when eth0 is generated too", i)
		}
	}
}

// TestDeterministicStore writes the same config into two stores and
// compares their data files byte for byte.
func TestDeterministicStore(t *testing.T) {
	ctx := context.Background()
	var dirs [2]string
	for i := range dirs {
		dirs[i] = t.TempDir()
		db := columnartest.OpenDir(t, dirs[i], nil)
		if _, err := gen.Generate(ctx, db, small, nil); err != nil {
			t.Fatal(err)
		}
		columnartest.MustCheck(t, db)
	}
	files := 0
	err := filepath.WalkDir(filepath.Join(dirs[0], columnar.DataDirName), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dirs[0], path)
		x, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(dirs[1], rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between the two stores (%d and %d bytes)", rel, len(x), len(y))
		}
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != 2 {
		t.Fatalf("compared %d data files, want 2 (one per interface and day)", files)
	}
}

func TestDistinctKeysAndShape(t *testing.T) {
	blocks := collect(t, small)
	g, _ := gen.New(small)
	for _, b := range blocks {
		if n := b.Len(); n < 1 || n > g.MaxRows() {
			t.Fatalf("%s@%d: %d rows, want 1..%d", b.Iface, b.Start, n, g.MaxRows())
		}
		seen := make(map[rowKey]bool, b.Len())
		for i := range b.Len() {
			k := keyOf(b, i)
			if seen[k] {
				t.Fatalf("%s@%d row %d repeats key %v", b.Iface, b.Start, i, k)
			}
			seen[k] = true
			sip, dip := netip.AddrFrom16(k.sip), netip.AddrFrom16(k.dip)
			if sip.Is4In6() != dip.Is4In6() {
				t.Fatalf("%s@%d row %d mixes families: %v -> %v", b.Iface, b.Start, i, sip, dip)
			}
			switch k.proto {
			case 1, 58:
				if k.dport != 0 || (k.proto == 58) == sip.Is4In6() {
					t.Fatalf("row %d: ICMP proto %d dport %d from %v", i, k.proto, k.dport, sip)
				}
			case 6, 17:
				if k.dport == 0 {
					t.Fatalf("row %d: proto %d with dport 0", i, k.proto)
				}
			default:
				t.Fatalf("row %d: proto %d", i, k.proto)
			}
			if b.PacketsIn[i]+b.PacketsOut[i] == 0 {
				t.Fatalf("row %d has no packets", i)
			}
			for _, d := range [][2]uint64{{b.PacketsIn[i], b.BytesIn[i]}, {b.PacketsOut[i], b.BytesOut[i]}} {
				if d[1] < d[0]*60 || d[1] > d[0]*1514 {
					t.Fatalf("row %d: %d bytes in %d packets: frames outside 60..1514 bytes", i, d[1], d[0])
				}
			}
		}
	}
}

// TestAddressRanges checks every address is in the documented ranges.
func TestAddressRanges(t *testing.T) {
	allowed := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("fd00::/8"),
	}
	for _, b := range collect(t, small) {
		for i := range b.Len() {
			for _, a := range [][16]byte{b.SIP[i], b.DIP[i]} {
				addr := netip.AddrFrom16(a).Unmap()
				ok := false
				for _, p := range allowed {
					ok = ok || p.Contains(addr)
				}
				if !ok {
					t.Fatalf("%s@%d row %d: address %v outside the documented ranges", b.Iface, b.Start, i, addr)
				}
			}
		}
	}
}

func TestBlockTimes(t *testing.T) {
	cfg := small
	cfg.Start = time.Date(2025, 3, 10, 7, 3, 17, 0, time.UTC) // rounds down to 07:00
	cfg.Duration = 61 * time.Minute                           // 13 blocks
	blocks := collect(t, cfg)
	if len(blocks) != 26 {
		t.Fatalf("got %d blocks, want 26", len(blocks))
	}
	first := time.Date(2025, 3, 10, 7, 0, 0, 0, time.UTC).Unix()
	for i, b := range blocks {
		want := first + int64(i/2)*300
		if b.Start != want || b.End != want+300 || b.Iface != cfg.Ifaces[i%2] {
			t.Fatalf("block %d: %s [%d, %d), want %s [%d, %d)", i, b.Iface, b.Start, b.End, cfg.Ifaces[i%2], want, want+300)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	g, err := gen.New(gen.Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := g.Config()
	if !c.Start.Equal(gen.DefaultStart) || c.Duration != 24*time.Hour || c.Interval != 5*time.Minute ||
		len(c.Ifaces) != 1 || c.Ifaces[0] != "eth0" || c.FlowsPerBlock != 20000 || c.Clients != 5000 ||
		c.Servers != 20000 || c.ZipfS != 1.1 || c.IPv6Share != 0.3 || c.Diurnal != 0.5 || c.Persist != 0.25 {
		t.Fatalf("defaults: %+v", c)
	}
	if g.Total() != 288 {
		t.Fatalf("Total = %d, want 288", g.Total())
	}
	g, err = gen.New(gen.Config{IPv6Share: -1, Diurnal: -1, Persist: -1})
	if err != nil {
		t.Fatal(err)
	}
	if c := g.Config(); c.IPv6Share != 0 || c.Diurnal != 0 || c.Persist != 0 {
		t.Fatalf("negative means none: %+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		field string
		cfg   gen.Config
	}{
		{"Interval", gen.Config{Interval: 1500 * time.Millisecond}},
		{"Interval", gen.Config{Interval: 25 * time.Hour}},
		{"Interval", gen.Config{Interval: -time.Second}},
		{"Start", gen.Config{Start: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)}},
		{"Duration", gen.Config{Duration: -time.Hour}},
		{"Duration", gen.Config{Duration: 20 * 365 * 24 * time.Hour}},
		{"Ifaces", gen.Config{Ifaces: []string{}}},
		{"Ifaces", gen.Config{Ifaces: []string{"eth0", ""}}},
		{"Ifaces", gen.Config{Ifaces: []string{"eth0", "eth0"}}},
		{"FlowsPerBlock", gen.Config{FlowsPerBlock: -5}},
		{"FlowsPerBlock", gen.Config{FlowsPerBlock: columnar.MaxBlockRows}},
		{"Clients", gen.Config{Clients: gen.MaxClients + 1}},
		{"Servers", gen.Config{Servers: -1}},
		{"ZipfS", gen.Config{ZipfS: 5}},
		{"IPv6Share", gen.Config{IPv6Share: 1.5}},
		{"Diurnal", gen.Config{Diurnal: 1}},
		{"Persist", gen.Config{Persist: 0.9}},
	} {
		_, err := gen.New(tc.cfg)
		if !errors.Is(err, gen.ErrInvalidConfig) || !bytes.Contains([]byte(err.Error()), []byte(tc.field+" =")) {
			t.Errorf("%+v: got %v, want ErrInvalidConfig naming %s", tc.cfg, err, tc.field)
		}
	}
}

func TestKeySpace(t *testing.T) {
	cfg := gen.Config{Clients: 1, Servers: 1, FlowsPerBlock: 100_000, Duration: time.Minute}
	_, err := gen.Generate(context.Background(), &collector{}, cfg, nil)
	if !errors.Is(err, gen.ErrKeySpace) {
		t.Fatalf("got %v, want ErrKeySpace", err)
	}
}

// failWriter fails its n-th write.
type failWriter struct {
	n, calls int
	err      error
}

func (w *failWriter) Write(context.Context, *columnar.Block) error {
	if w.calls++; w.calls == w.n {
		return w.err
	}
	return nil
}

func TestGenerateWriterError(t *testing.T) {
	boom := errors.New("disk full")
	rep, err := gen.Generate(context.Background(), &failWriter{n: 3, err: boom}, small, nil)
	if !errors.Is(err, boom) || rep.Blocks != 2 {
		t.Fatalf("got %v after %d blocks, want the writer's error after 2", err, rep.Blocks)
	}
}

func TestGenerateCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	rep, err := gen.Generate(ctx, &collector{}, small, func(gen.Report, int) {
		if calls++; calls == 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || rep.Blocks != 5 {
		t.Fatalf("got %v after %d blocks, want context.Canceled after 5", err, rep.Blocks)
	}
}

func TestGenerateReport(t *testing.T) {
	var w collector
	last, calls := gen.Report{}, 0
	rep, err := gen.Generate(context.Background(), &w, small, func(r gen.Report, total int) {
		calls++
		if total != 48 || r.Blocks != calls || r.Rows <= last.Rows {
			t.Fatalf("progress %d: %+v of %d after %+v", calls, r, total, last)
		}
		last = r
	})
	if err != nil {
		t.Fatal(err)
	}
	var want gen.Report
	for _, b := range w.blocks {
		want.Blocks++
		want.Rows += int64(b.Len())
		want.NonIP += b.NonIP
		for i := range b.Len() {
			want.Packets += b.PacketsIn[i] + b.PacketsOut[i]
			want.Bytes += b.BytesIn[i] + b.BytesOut[i]
		}
	}
	want.Carried, want.Merged = rep.Carried, rep.Merged
	if rep != want || last != rep {
		t.Fatalf("report %+v, last progress %+v, want %+v", rep, last, want)
	}
	if rep.Carried == 0 || rep.Merged == 0 {
		t.Fatalf("report %+v: no carried or merged rows", rep)
	}
}
