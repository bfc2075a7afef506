package main

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowsql/flowsql/columnar"
)

// fixtureStart is the first block of the query fixture store.
var fixtureStart = time.Date(2025, 3, 10, 10, 0, 0, 0, time.UTC).Unix()

// fixtureRow is one stored flow of the fixture.
type fixtureRow struct {
	sip, dip  string
	dport     uint16
	proto     uint8
	bin, bout uint64
	pin, pout uint64
	iface     string
	block     int // block index: start = fixtureStart + 300*block
}

// fixtureRows is the whole fixture: eth0 with three five-minute blocks and
// eth1 with two, IPv4 and IPv6, TCP, UDP and ICMP, counters from one packet
// to gigabytes (so the table shows every unit).
var fixtureRows = []fixtureRow{
	{sip: "10.0.0.1", dip: "93.184.216.34", dport: 443, proto: 6, bin: 5_000_000_000, bout: 120_000, pin: 3_500_000, pout: 900_000, iface: "eth0", block: 0},
	{sip: "10.0.0.2", dip: "8.8.8.8", dport: 53, proto: 17, bin: 160, bout: 80, pin: 1, pout: 1, iface: "eth0", block: 0},
	{sip: "2001:db8::10", dip: "2001:db8:1::53", dport: 53, proto: 17, bin: 320, bout: 160, pin: 2, pout: 2, iface: "eth0", block: 0},
	{sip: "10.0.0.1", dip: "10.0.0.254", dport: 0, proto: 1, bin: 294, bout: 294, pin: 3, pout: 3, iface: "eth0", block: 0},
	{sip: "10.0.0.1", dip: "93.184.216.34", dport: 443, proto: 6, bin: 2_000_000, bout: 50_000, pin: 1500, pout: 800, iface: "eth0", block: 1},
	{sip: "10.0.0.3", dip: "93.184.216.34", dport: 80, proto: 6, bin: 1_500_000, bout: 40_000, pin: 1100, pout: 600, iface: "eth0", block: 1},
	{sip: "2001:db8::10", dip: "2606:4700::1111", dport: 443, proto: 6, bin: 300_000, bout: 20_000, pin: 250, pout: 150, iface: "eth0", block: 1},
	{sip: "192.0.2.7", dip: "10.0.0.1", dport: 22, proto: 6, bin: 74, bout: 0, pin: 1, pout: 0, iface: "eth0", block: 2},
	{sip: "10.0.0.2", dip: "8.8.8.8", dport: 53, proto: 17, bin: 170, bout: 85, pin: 1, pout: 1, iface: "eth0", block: 2},
	{sip: "10.1.0.5", dip: "10.0.0.1", dport: 5432, proto: 6, bin: 40_000, bout: 900_000, pin: 300, pout: 700, iface: "eth1", block: 0},
	{sip: "10.1.0.6", dip: "198.51.100.9", dport: 123, proto: 17, bin: 90, bout: 90, pin: 1, pout: 1, iface: "eth1", block: 0},
	{sip: "10.1.0.5", dip: "10.0.0.1", dport: 5432, proto: 6, bin: 35_000, bout: 800_000, pin: 280, pout: 650, iface: "eth1", block: 1},
	{sip: "fe80::1", dip: "ff02::fb", dport: 5353, proto: 17, bin: 0, bout: 400, pin: 0, pout: 2, iface: "eth1", block: 1},
}

// fixtureStore writes the fixture into a new store and returns its folder.
func fixtureStore(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "db")
	writeFixture(t, dir)
	return dir
}

func writeFixture(t testing.TB, dir string) {
	t.Helper()
	ctx := context.Background()
	db, err := columnar.Open(ctx, dir, &columnar.Options{NoSync: true})
	if err != nil {
		t.Fatalf("open fixture store: %v", err)
	}
	defer db.Close()
	blocks := map[[2]any]*columnar.Block{}
	var order []*columnar.Block
	for _, r := range fixtureRows {
		k := [2]any{r.iface, r.block}
		b := blocks[k]
		if b == nil {
			start := fixtureStart + 300*int64(r.block)
			b = &columnar.Block{Iface: r.iface, Start: start, End: start + 300}
			blocks[k] = b
			order = append(order, b)
		}
		b.Append(netip.MustParseAddr(r.sip).As16(), netip.MustParseAddr(r.dip).As16(), r.dport, r.proto, r.bin, r.bout, r.pin, r.pout)
	}
	for _, b := range order {
		if err := db.Write(ctx, b); err != nil {
			t.Fatalf("write fixture block %s@%d: %v", b.Iface, b.Start, err)
		}
	}
	if errs := db.Check(ctx); len(errs) > 0 {
		t.Fatalf("fixture store: %v", errs)
	}
}

// chunkFile returns the absolute path of the data file of a block's chunk.
func chunkFile(dir string, m *columnar.BlockMeta) string {
	return filepath.Join(dir, filepath.FromSlash(m.File))
}

// flipFileByte inverts one byte of a file.
func flipFileByte(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
