package columnar_test

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

// mixedBlock is a block whose IPv4 clients talk to IPv4 servers and whose
// IPv6 clients talk to IPv6 servers, sorted so that the client 10.0.0.1
// is one run of rows; with low it also holds a flow from ::1, which sorts
// below every IPv4-mapped address.
func mixedBlock(start int64, low bool) *columnar.Block {
	b := &columnar.Block{Iface: "eth0", Start: start, End: start + 300}
	for i := range 30 {
		b.Append(v4(10, 0, 0, byte(1+i%3)), v4(192, 0, 2, byte(i)), 443, 6, uint64(100+i), 1, 1, 1)
		b.Append(v6(0x20010db8, uint64(1+i%4)), v6(0x20010db8ff, uint64(i)), 53, 17, uint64(200+i), 1, 1, 1)
	}
	if low {
		b.Append(v6(0, 1), v6(0, 1), 8080, 6, 5, 5, 1, 1)
	}
	return b
}

func openTemp(t *testing.T) *columnar.DB {
	t.Helper()
	db, err := columnar.Open(context.Background(), t.TempDir(), columnartest.Options())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestV4FirstFlag: the writer flags a block whose dictionaries have no
// entry below the IPv4 block, and only such a block.
func TestV4FirstFlag(t *testing.T) {
	db := openTemp(t)
	mustWrite(t, db, mixedBlock(t0, false))
	mustWrite(t, db, mixedBlock(t0+300, true))
	ms := mustBlocks(t, db, columnar.Selector{})
	if ms[0].Flags&columnar.FlagV4First == 0 {
		t.Errorf("block without low entries: flags %#x lack FlagV4First", ms[0].Flags)
	}
	if ms[1].Flags&columnar.FlagV4First != 0 {
		t.Errorf("block with ::1: flags %#x have FlagV4First", ms[1].Flags)
	}
	if errs := db.Check(context.Background()); len(errs) != 0 {
		t.Errorf("check: %v", errs)
	}
}

// TestPartialDict: in a flagged block, the dictionary read for IPv4
// lookups alone is the IPv4 part, read without the 16-byte chunk, and
// answers IPv4 lookups and prefixes with the codes of the whole one; rows
// that hold IPv4 codes only get that part from ReadColumnRows, and their
// addresses are those of a whole read. An unflagged block is read whole.
func TestPartialDict(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	mustWrite(t, db, mixedBlock(t0, false))
	mustWrite(t, db, mixedBlock(t0+300, true))
	ms := mustBlocks(t, db, columnar.Selector{})
	m := &ms[0]

	whole, err := db.ReadDict(ctx, m, columnar.ColSIP, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Release()
	part, err := db.ReadDictV4(ctx, m, columnar.ColSIP, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer part.Release()
	r4, _ := m.Chunk(columnar.ColSIP, columnar.PartDict4)
	r16, _ := m.Chunk(columnar.ColSIP, columnar.PartDict)
	if !part.Partial() || part.Len() != r4.Rows || part.Full() != whole.Len() || whole.Partial() {
		t.Fatalf("partial dict: len %d full %d partial %v; whole: len %d partial %v; IPv4 part %d rows",
			part.Len(), part.Full(), part.Partial(), whole.Len(), whole.Partial(), r4.Rows)
	}
	if part.Chunks != 1 || part.DiskBytes != r4.Length || whole.Chunks != 2 || whole.DiskBytes != r4.Length+r16.Length {
		t.Errorf("read accounting: partial %d chunks %d B, whole %d chunks %d B; parts %d + %d B",
			part.Chunks, part.DiskBytes, whole.Chunks, whole.DiskBytes, r4.Length, r16.Length)
	}
	for _, a := range [][16]byte{v4(10, 0, 0, 2), v4(10, 0, 0, 3), v4(10, 0, 0, 9)} {
		c1, ok1 := whole.Lookup(a)
		c2, ok2 := part.Lookup(a)
		if c1 != c2 || ok1 != ok2 {
			t.Errorf("lookup %x: whole %d %v, partial %d %v", a, c1, ok1, c2, ok2)
		}
	}
	if _, ok := part.Lookup(v6(0x20010db8, 1)); ok {
		t.Error("the partial dictionary found an IPv6 address")
	}
	lo, hi := v4(10, 0, 0, 0), v4(10, 0, 0, 255)
	f1, t1 := whole.Range(lo, hi)
	f2, t2 := part.Range(lo, hi)
	if f1 != f2 || t1 != t2 || t1-f1 != 3 {
		t.Errorf("range of 10.0.0.0/24: whole [%d, %d), partial [%d, %d)", f1, t1, f2, t2)
	}

	// The run of 10.0.0.1 talks to IPv4 servers only.
	code, _ := whole.Lookup(v4(10, 0, 0, 1))
	sip, err := db.ReadColumn(ctx, m, columnar.ColSIP, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sip.Release()
	r0, r1 := -1, -1
	for i := range sip.Len() {
		if sip.Value(i) == uint64(code) {
			if r0 < 0 {
				r0 = i
			}
			r1 = i + 1
		}
	}
	dipWhole, err := db.ReadColumn(ctx, m, columnar.ColDIP, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dipWhole.Release()
	dipRun, err := db.ReadColumnRows(ctx, m, columnar.ColDIP, r0, r1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dipRun.Release()
	if !dipRun.Dict.Partial() || dipWhole.Dict.Partial() {
		t.Errorf("dip of an IPv4 run: partial %v; whole column: partial %v", dipRun.Dict.Partial(), dipWhole.Dict.Partial())
	}
	rd4, _ := m.Chunk(columnar.ColDIP, columnar.PartDict4)
	rv, _ := m.Chunk(columnar.ColDIP, columnar.PartValues)
	if dipRun.Chunks != 2 || dipRun.DiskBytes != rd4.Length+rv.Length || dipWhole.Chunks != 3 {
		t.Errorf("dip read accounting: run %d chunks %d B (want 2, %d), whole %d chunks", dipRun.Chunks, dipRun.DiskBytes, rd4.Length+rv.Length, dipWhole.Chunks)
	}
	for i := r0; i < r1; i++ {
		if a, b := dipRun.Addr(i), dipWhole.Addr(i); a != b {
			t.Errorf("row %d: dip %x from the partial read, %x from the whole", i, a, b)
		}
	}
	// Rows that reach an IPv6 code get the whole dictionary.
	all, err := db.ReadColumnRows(ctx, m, columnar.ColDIP, 0, m.Rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer all.Release()
	if all.Dict.Partial() {
		t.Error("ReadColumnRows over IPv6 rows gave a partial dictionary")
	}
	// ReadColumnV4: every row, the IPv4 part only.
	v4col, err := db.ReadColumnV4(ctx, m, columnar.ColSIP, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer v4col.Release()
	if !v4col.Dict.Partial() || v4col.Len() != m.Rows {
		t.Errorf("ReadColumnV4: partial %v, %d rows", v4col.Dict.Partial(), v4col.Len())
	}

	// The block with ::1 is read whole.
	low := &ms[1]
	d, err := db.ReadDictV4(ctx, low, columnar.ColSIP, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release()
	if d.Partial() || d.Len() != low.SIPDistinct {
		t.Errorf("unflagged block: ReadDictV4 partial %v with %d of %d entries", d.Partial(), d.Len(), low.SIPDistinct)
	}
	c, err := db.ReadColumnV4(ctx, low, columnar.ColSIP, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if c.Dict.Partial() {
		t.Error("unflagged block: ReadColumnV4 gave a partial dictionary")
	}
}

// TestCheckV4FirstFlag: an entry that claims IPv4 codes first over a
// dictionary with an entry below them is reported by Check.
func TestCheckV4FirstFlag(t *testing.T) {
	dir := storeWithEntry(t, mixedBlock(t0, true), func(m *columnar.BlockMeta) { m.Flags |= columnar.FlagV4First })
	db := openNoCheck(t, dir)
	errs := db.Check(context.Background())
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "sort below ::ffff:0.0.0.0") {
		t.Errorf("check over a false IPv4-first flag: %v", errs)
	}
}

// TestPartialDictPlanes: a partial dictionary, held as the IPv4 byte
// planes, answers every lookup, range and entry as the whole dictionary
// does for IPv4 codes, with bounds below, inside and above the IPv4
// space, and expands to the whole dictionary's IPv4 entries.
func TestPartialDictPlanes(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	r := rand.New(rand.NewPCG(4, 4))
	mustWrite(t, db, randomBlock(r, "eth0", t0, 2000))
	m := &mustBlocks(t, db, columnar.Selector{})[0]
	if m.Flags&columnar.FlagV4First == 0 {
		t.Fatal("random block not flagged FlagV4First")
	}
	for _, col := range []columnar.ColumnID{columnar.ColSIP, columnar.ColDIP} {
		whole, err := db.ReadDict(ctx, m, col, nil)
		if err != nil {
			t.Fatal(err)
		}
		part, err := db.ReadDictV4(ctx, m, col, nil)
		if err != nil {
			t.Fatal(err)
		}
		n4 := part.Len()
		if n4 == 0 || !part.Partial() {
			t.Fatalf("%s: partial dictionary of %d entries", col, n4)
		}
		var addrs [][16]byte
		for i := range whole.Len() {
			a := whole.At(i)
			if i < n4 && (part.At(i) != a || part.AtV4(i) != binary.BigEndian.Uint32(a[12:])) {
				t.Fatalf("%s: entry %d = %x (IPv4 %#x), want %x", col, i, part.At(i), part.AtV4(i), a)
			}
			addrs = append(addrs, a)
		}
		next := func(a [16]byte) [16]byte {
			for i := 15; i >= 0; i-- {
				if a[i]++; a[i] != 0 {
					break
				}
			}
			return a
		}
		probes := [][16]byte{{}, v6(1, 0), v4(0, 0, 0, 0), v4(255, 255, 255, 255), next(v4(255, 255, 255, 255)), v6(0x20010db8<<32, 0), v6(^uint64(0), ^uint64(0))}
		for _, a := range addrs {
			probes = append(probes, a, next(a))
		}
		for _, a := range probes {
			c1, ok1 := whole.Lookup(a)
			c2, ok2 := part.Lookup(a)
			if want := ok1 && int(c1) < n4; ok2 != want || ok2 && c1 != c2 {
				t.Errorf("%s: lookup %x: whole %d %v, partial %d %v", col, a, c1, ok1, c2, ok2)
			}
		}
		for range 500 {
			lo, hi := probes[r.IntN(len(probes))], probes[r.IntN(len(probes))]
			f1, t1 := whole.Range(lo, hi)
			f2, t2 := part.Range(lo, hi)
			// The whole range, clipped to the IPv4 codes.
			f1, t1 = min(f1, n4), min(t1, n4)
			if max(t1-f1, 0) != max(t2-f2, 0) || t1 > f1 && f1 != f2 {
				t.Errorf("%s: range [%x, %x]: whole [%d, %d), partial [%d, %d)", col, lo, hi, f1, t1, f2, t2)
			}
		}
		a := part.Array()
		if a.Len() != n4 {
			t.Fatalf("%s: expanded %d entries, want %d", col, a.Len(), n4)
		}
		for i := range n4 {
			if string(a.Value(i)) != string(addrs[i][:]) || part.AtV4(i) != binary.BigEndian.Uint32(addrs[i][12:]) {
				t.Fatalf("%s: expanded entry %d = %x (IPv4 %#x), want %x", col, i, a.Value(i), part.AtV4(i), addrs[i])
			}
		}
		whole.Release()
		part.Release()
	}
}
