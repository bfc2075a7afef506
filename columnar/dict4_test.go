package columnar

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestSplitV4RoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 7, 1000} {
		vals := make([][16]byte, n)
		for i := range vals {
			vals[i] = v4addr(byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()))
		}
		planes := appendSplitV4([]byte{0xaa}, vals)[1:] // appends, keeps dst
		if len(planes) != 4*n {
			t.Fatalf("n=%d: %d plane bytes", n, len(planes))
		}
		for i := range vals {
			if planes[i] != vals[i][12] || planes[3*n+i] != vals[i][15] {
				t.Fatalf("n=%d: entry %d not in byte planes", n, i)
			}
		}
		got := make([]byte, 16*n)
		for i := range got {
			got[i] = 0x55 // unsplitV4 must write every byte
		}
		unsplitV4(got, planes, n)
		if string(got) != string(addrBytes(vals)) {
			t.Fatalf("n=%d: round trip differs", n)
		}
	}
}

// TestDictParts writes dictionaries of every shape, with entries on both
// sides of the IPv4 block and at its edges, and reads them back through
// both parts. All blocks go through one writer, twice over, so its scratch
// space passes from one shape to the next.
func TestDictParts(t *testing.T) {
	below := [][16]byte{{}, {15: 1}, {11: 0xfe, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}} // ::, ::1, ::fffe:ffff:ffff
	edges := [][16]byte{v4MappedLo, v4MappedHi, v4addr(10, 0, 0, 1)}
	above := [][16]byte{{9: 1}, {0: 0x20, 1: 0x01, 15: 9}, {0: 0xfe, 1: 0x80, 15: 1}} // ::1:0:0:0, 2001::9, fe80::1
	// "v6 above" then "v6 below": the 16-byte part of the second (copied,
	// as entries sort below the IPv4 block) is no larger than the first's
	// (aliased); a writer reusing that alias as scratch would overwrite
	// the dictionary it copies from.
	cases := []struct {
		name  string
		addrs [][16]byte
	}{
		{"v4 only", edges},
		{"v6 above", append(slices.Clone(edges), above...)},
		{"v6 below", append(slices.Clone(below), edges...)},
		{"both sides", append(append(slices.Clone(below), edges...), above...)},
		{"v6 only", append(slices.Clone(below), above...)},
	}
	db, err := Open(context.Background(), t.TempDir(), &Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 2 * len(cases) {
		c := cases[i%len(cases)]
		addrs := c.addrs
		b := &Block{Iface: "eth0", Start: 1741600800 + int64(i)*300, End: 1741601100 + int64(i)*300}
		for i, a := range addrs {
			b.Append(a, addrs[len(addrs)-1-i], uint16(i), 6, 1, 1, 1, 1)
			b.Append(a, a, uint16(i), 17, 1, 1, 1, 1)
		}
		if err := db.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		ms, err := db.Blocks(context.Background(), Selector{From: b.Start, To: b.End})
		if err != nil {
			t.Fatal(err)
		}
		m := &ms[0]
		want := slices.Clone(addrs)
		slices.SortFunc(want, func(a, b [16]byte) int { return compareAddr(&a, &b) })
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		for _, id := range []ColumnID{ColSIP, ColDIP} {
			d, err := db.ReadDict(context.Background(), m, id, mem)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := dictBytes(d.Array()); string(got) != string(addrBytes(want)) {
				t.Errorf("%s: %s dictionary %x, want %x", c.name, id, got, addrBytes(want))
			}
			d.Release()
		}
		got, err := db.ReadBlock(context.Background(), m, mem)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got.SIP {
			if got.DPort[i] >= uint16(len(addrs)) || got.SIP[i] != addrs[got.DPort[i]] {
				t.Fatalf("%s: row %d: sip %x, dport %d", c.name, i, got.SIP[i], got.DPort[i])
			}
		}
		mem.AssertSize(t, 0)
	}
	if errs := db.Check(context.Background()); len(errs) > 0 {
		t.Error(errs)
	}
}

// TestDictPartsDamaged writes version 2 blocks whose 16-byte dictionary
// part holds IPv4-mapped addresses: ReadDict or Check must report them.
func TestDictPartsDamaged(t *testing.T) {
	for name, damage := range map[string]func(d *addrDict){
		// The last IPv4 entry goes into the 16-byte part: the dictionary
		// still sorts, but ReadDict counts one IPv4 entry too many.
		"one v4 in dict": func(d *addrDict) {
			if d.v4hi > d.v4lo+1 {
				d.v4hi--
			}
		},
		// No dict4 part at all: only Check sees it.
		"no dict4": func(d *addrDict) { d.v4lo, d.v4hi = 0, 0 },
	} {
		t.Run(name, func(t *testing.T) {
			db, err := Open(context.Background(), t.TempDir(), &Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.wmu.enc.damageSplit = damage
			b := &Block{Iface: "eth0", Start: 1741600800, End: 1741601100}
			for i := range 10 {
				b.Append(v4addr(10, 0, 0, byte(i)), [16]byte{0x20, 0x01, 15: byte(i)}, 443, 6, 1, 1, 1, 1)
			}
			if err := db.Write(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			errs := db.Check(context.Background())
			if len(errs) == 0 || !errors.Is(errs[0], ErrCorrupt) || !strings.Contains(errs[0].Error(), "IPv4-mapped") {
				t.Errorf("check: %v", errs)
			}
		})
	}
}

func BenchmarkUnsplitV4(b *testing.B) {
	n := 4097
	planes := make([]byte, 4*n)
	for i := range planes {
		planes[i] = byte(i * 7)
	}
	dst := make([]byte, 16*n)
	for b.Loop() {
		unsplitV4(dst, planes, n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}
