package columnar_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

func TestBlocksSelector(t *testing.T) {
	db := columnartest.Open(t, nil)
	r := rand.New(rand.NewPCG(5, 6))
	for _, iface := range []string{"eth1", "eth0", "any/odd name"} {
		for i := range 4 {
			mustWrite(t, db, randomBlock(r, iface, t0+int64(i)*300, 3))
		}
	}
	starts := func(ms []columnar.BlockMeta) (s []string) {
		for _, m := range ms {
			s = append(s, m.Iface+"@"+string(rune('0'+(m.Start-t0)/300)))
		}
		return s
	}
	cases := []struct {
		sel  columnar.Selector
		want string
	}{
		{columnar.Selector{}, "any/odd name@0 any/odd name@1 any/odd name@2 any/odd name@3 eth0@0 eth0@1 eth0@2 eth0@3 eth1@0 eth1@1 eth1@2 eth1@3"},
		{columnar.Selector{Ifaces: []string{"eth1", "eth0", "eth1"}}, "eth0@0 eth0@1 eth0@2 eth0@3 eth1@0 eth1@1 eth1@2 eth1@3"},
		{columnar.Selector{Ifaces: []string{"eth0"}, From: t0 + 300}, "eth0@1 eth0@2 eth0@3"},
		{columnar.Selector{Ifaces: []string{"eth0"}, From: t0 + 301, To: t0 + 900}, "eth0@2"},
		{columnar.Selector{Ifaces: []string{"eth0"}, To: t0 + 300}, "eth0@0"},
		{columnar.Selector{Ifaces: []string{"nope"}}, ""},
		{columnar.Selector{From: t0 + 10000}, ""},
	}
	for _, c := range cases {
		if got := strings.Join(starts(mustBlocks(t, db, c.sel)), " "); got != c.want {
			t.Errorf("%+v:\n got %s\nwant %s", c.sel, got, c.want)
		}
	}
	ifaces, err := db.Interfaces(context.Background())
	if err != nil || strings.Join(ifaces, ",") != "any/odd name,eth0,eth1" {
		t.Errorf("interfaces %q, %v", ifaces, err)
	}
}

func TestSummary(t *testing.T) {
	db := columnartest.Open(t, nil)
	r := rand.New(rand.NewPCG(7, 8))
	var flows, pkts, bytes, nonIP uint64
	for i := range 3 {
		b := randomBlock(r, "eth0", t0+int64(i)*300, 10)
		b.BytesIn, b.BytesOut, b.PacketsIn, b.PacketsOut = small(b.BytesIn), small(b.BytesOut), small(b.PacketsIn), small(b.PacketsOut)
		mustWrite(t, db, b)
		for j := range b.Len() {
			pkts += b.PacketsIn[j] + b.PacketsOut[j]
			bytes += b.BytesIn[j] + b.BytesOut[j]
		}
		flows += uint64(b.Len())
		nonIP += b.NonIP
	}
	mustWrite(t, db, &columnar.Block{Iface: "lo", Start: t0, End: t0 + 300, NonIP: 7, ParseErrors: 2})
	s, err := db.Summary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 {
		t.Fatalf("%d summaries, want 2", len(s))
	}
	e := s[0]
	if e.Iface != "eth0" || e.First != t0 || e.Last != t0+600 || e.Blocks != 3 || e.Flows != flows ||
		e.Packets != pkts || e.Bytes != bytes || e.NonIP != nonIP || e.DiskBytes <= 16 {
		t.Errorf("eth0 summary %+v; want flows %d packets %d bytes %d non-ip %d", e, flows, pkts, bytes, nonIP)
	}
	if lo := s[1]; lo.Iface != "lo" || lo.Blocks != 1 || lo.Flows != 0 || lo.NonIP != 7 || lo.ParseErrors != 2 || lo.DiskBytes != 0 {
		t.Errorf("lo summary %+v", lo)
	}
}

func small(v []uint64) []uint64 {
	for i := range v {
		v[i] %= 1 << 40
	}
	return v
}

func TestEmptyBlock(t *testing.T) {
	mem := checkedMem(t)
	db := columnartest.Open(t, nil)
	mustWrite(t, db, &columnar.Block{Iface: "eth0", Start: t0, End: t0 + 300, NonIP: 5})
	m := mustBlocks(t, db, columnar.Selector{})[0]
	if m.Rows != 0 || m.NonIP != 5 || len(m.Chunks) != 0 || m.File != "" {
		t.Errorf("empty block meta %+v", m)
	}
	for _, id := range columnar.Columns() {
		c, err := db.ReadColumn(context.Background(), &m, id, mem)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if c.Len() != 0 || (id.IsAddr() && c.Dict.Len() != 0) {
			t.Errorf("%s: %d rows", id, c.Len())
		}
		c.Release()
	}
}

func TestWriteRejects(t *testing.T) {
	db := columnartest.Open(t, nil)
	ok := func() *columnar.Block {
		b := &columnar.Block{Iface: "eth0", Start: t0, End: t0 + 300}
		b.Append(v4(1, 2, 3, 4), v4(5, 6, 7, 8), 53, 17, 1, 2, 3, 4)
		return b
	}
	cases := []struct {
		name   string
		mutate func(*columnar.Block)
		want   error
		text   string
	}{
		{"nil iface", func(b *columnar.Block) { b.Iface = "" }, columnar.ErrInvalidBlock, "empty"},
		{"long iface", func(b *columnar.Block) { b.Iface = strings.Repeat("x", 256) }, columnar.ErrInvalidBlock, "256 bytes"},
		{"nul iface", func(b *columnar.Block) { b.Iface = "a\x00b" }, columnar.ErrInvalidBlock, "NUL"},
		{"bad utf8", func(b *columnar.Block) { b.Iface = "\xff" }, columnar.ErrInvalidBlock, "UTF-8"},
		{"end before start", func(b *columnar.Block) { b.End = b.Start }, columnar.ErrInvalidBlock, "empty or negative"},
		{"negative start", func(b *columnar.Block) { b.Start, b.End = -300, 0 }, columnar.ErrInvalidBlock, "negative"},
		{"too long", func(b *columnar.Block) { b.End = b.Start + 86401 }, columnar.ErrInvalidBlock, "lasts 86401"},
		{"short column", func(b *columnar.Block) { b.PacketsIn = nil }, columnar.ErrInvalidBlock, "packets_in has 0 rows, sip has 1"},
	}
	for _, c := range cases {
		b := ok()
		c.mutate(b)
		err := db.Write(context.Background(), b)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: got %v, want %v mentioning %q", c.name, err, c.want, c.text)
		}
	}
	if err := db.Write(context.Background(), nil); !errors.Is(err, columnar.ErrInvalidBlock) {
		t.Errorf("nil block: %v", err)
	}
	mustWrite(t, db, ok())
	if err := db.Write(context.Background(), ok()); !errors.Is(err, columnar.ErrBlockExists) {
		t.Errorf("duplicate: got %v, want ErrBlockExists", err)
	}
	b := ok()
	b.Start, b.End = t0+100, t0+400
	if err := db.Write(context.Background(), b); !errors.Is(err, columnar.ErrBlockOverlap) {
		t.Errorf("overlap after: got %v, want ErrBlockOverlap", err)
	}
	b.Start, b.End = t0-100, t0+1
	if err := db.Write(context.Background(), b); !errors.Is(err, columnar.ErrBlockOverlap) {
		t.Errorf("overlap before: got %v, want ErrBlockOverlap", err)
	}
	// Older and newer blocks that do not overlap are fine, in any order.
	for _, start := range []int64{t0 + 600, t0 - 300, t0 + 300} {
		b := ok()
		b.Start, b.End = start, start+300
		mustWrite(t, db, b)
	}
	if n := len(mustBlocks(t, db, columnar.Selector{})); n != 4 {
		t.Errorf("%d blocks stored, want 4", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b = ok()
	b.Start, b.End = t0+900, t0+1200
	if err := db.Write(ctx, b); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled write: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	db := columnartest.OpenDir(t, dir, nil)
	mustWrite(t, db, newFlowGen(1).block("eth0", t0, 100))
	columnartest.MustCheck(t, db)

	ro := columnartest.OpenDir(t, dir, &columnar.Options{ReadOnly: true})
	m := mustBlocks(t, ro, columnar.Selector{})
	if len(m) != 1 {
		t.Fatalf("%d blocks", len(m))
	}
	readRows(t, ro, &m[0], checkedMem(t))
	if err := ro.Write(context.Background(), newFlowGen(1).block("eth0", t0+300, 1)); !errors.Is(err, columnar.ErrReadOnly) {
		t.Errorf("write on read-only: %v", err)
	}
	if _, err := ro.Retain(context.Background(), columnar.RetentionPolicy{MaxAge: 1}); !errors.Is(err, columnar.ErrReadOnly) {
		t.Errorf("retain on read-only: %v", err)
	}
	if _, err := columnar.Open(context.Background(), t.TempDir(), &columnar.Options{ReadOnly: true}); err == nil {
		t.Error("read-only open of an empty folder succeeded")
	}
}

func TestClosed(t *testing.T) {
	db := columnartest.Open(t, nil)
	mustWrite(t, db, newFlowGen(1).block("eth0", t0, 10))
	m := mustBlocks(t, db, columnar.Selector{})[0]
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := db.ReadColumn(context.Background(), &m, columnar.ColDPort, nil); !errors.Is(err, columnar.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	if err := db.Write(context.Background(), newFlowGen(1).block("eth0", t0+300, 1)); !errors.Is(err, columnar.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}

// TestConcurrentReadWrite runs readers against the writer (meaningful under
// -race): readers only ever see complete blocks.
func TestConcurrentReadWrite(t *testing.T) {
	db := columnartest.Open(t, nil)
	g := newFlowGen(9)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mem := checkedMem(t)
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := readAll(db, mem); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 20 {
		mustWrite(t, db, g.block("eth0", t0+int64(i)*300, 200))
	}
	close(done)
	wg.Wait()
}

func TestColumnNames(t *testing.T) {
	for _, id := range columnar.Columns() {
		got, ok := columnar.ColumnByName(id.String())
		if !ok || got != id {
			t.Errorf("ColumnByName(%q) = %v, %v", id.String(), got, ok)
		}
	}
	for _, name := range []string{"bytes", "packets", "time", "iface", "", "SIP"} {
		if _, ok := columnar.ColumnByName(name); ok {
			t.Errorf("ColumnByName(%q) found a stored column", name)
		}
	}
	for _, c := range []columnar.Codec{columnar.CodecNone, columnar.CodecLZ4, columnar.CodecZstd} {
		if got, err := columnar.ParseCodec(c.String()); err != nil || got != c {
			t.Errorf("ParseCodec(%q) = %v, %v", c.String(), got, err)
		}
	}
	if _, err := columnar.ParseCodec("gzip"); err == nil {
		t.Error("ParseCodec accepted gzip")
	}
	if _, err := (&columnar.DB{}).ReadColumn(context.Background(), &columnar.BlockMeta{}, 0, nil); !errors.Is(err, columnar.ErrUnknownColumn) {
		t.Errorf("column 0: %v", err)
	}
}

func TestEscapeIface(t *testing.T) {
	for _, name := range []string{"eth0", "en0.100", ".hidden", "..", "a/b", "a%b", "wlan 0", "é", "\x01", "veth-1_x"} {
		esc := columnar.EscapeIface(name)
		if strings.ContainsAny(esc, "/ \x00") || esc == "." || esc == ".." || strings.HasPrefix(esc, ".") {
			t.Errorf("EscapeIface(%q) = %q is not a safe path element", name, esc)
		}
		back, err := columnar.UnescapeIface(esc)
		if err != nil || back != name {
			t.Errorf("UnescapeIface(%q) = %q, %v; want %q", esc, back, err, name)
		}
	}
	for _, bad := range []string{"%4", "%zz", "%41", "a%2f"} {
		if _, err := columnar.UnescapeIface(bad); err == nil {
			t.Errorf("UnescapeIface(%q) accepted a non-canonical name", bad)
		}
	}
}

// readAll reads every column of every block, for use off the test goroutine.
func readAll(db *columnar.DB, mem memory.Allocator) error {
	ms, err := db.Blocks(context.Background(), columnar.Selector{})
	if err != nil {
		return err
	}
	for _, m := range ms {
		for _, id := range columnar.Columns() {
			c, err := db.ReadColumn(context.Background(), &m, id, mem)
			if err != nil {
				return err
			}
			if c.Len() != m.Rows {
				err = fmt.Errorf("%s@%d %s: %d rows, want %d", m.Iface, m.Start, id, c.Len(), m.Rows)
			}
			c.Release()
			if err != nil {
				return err
			}
		}
	}
	return nil
}
