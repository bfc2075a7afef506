package columnar_test

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

const t0 = 1_741_600_800 // 2025-03-10 10:00:00 UTC

func TestRoundTrip(t *testing.T) {
	for _, codecs := range []columnar.Codecs{
		columnar.DefaultCodecs(),
		{},
		{Dict: columnar.CodecZstd, Codes: columnar.CodecZstd, Keys: columnar.CodecZstd, Bytes: columnar.CodecLZ4, Packets: columnar.CodecNone},
	} {
		t.Run(codecs.Dict.String()+"-"+codecs.Bytes.String()+"-"+codecs.Packets.String(), func(t *testing.T) {
			mem := checkedMem(t)
			db := columnartest.Open(t, &columnar.Options{NoSync: true, Codecs: &codecs})
			r := rand.New(rand.NewPCG(1, 2))
			want := make(map[string][]row)
			for i, n := range []int{1, 2, 17, 300, 1000, 4097} {
				for _, iface := range []string{"eth0", "wlan0"} {
					b := randomBlock(r, iface, t0+int64(i)*300, n)
					mustWrite(t, db, b)
					want[iface] = append(want[iface], storeOrder(rowsOf(b))...)
				}
			}
			got := make(map[string][]row)
			for _, m := range mustBlocks(t, db, columnar.Selector{}) {
				for _, c := range m.Chunks {
					if want := codecs.Dict; c.Part == columnar.PartDict && c.Codec != want {
						t.Errorf("%s dict codec %s, want %s", c.Column, c.Codec, want)
					}
				}
				got[m.Iface] = append(got[m.Iface], readRows(t, db, &m, mem)...)
			}
			for iface, w := range want {
				if !slices.Equal(got[iface], w) {
					t.Fatalf("%s: read %d rows differing from the %d written", iface, len(got[iface]), len(w))
				}
			}
		})
	}
}

func TestNarrowestWidths(t *testing.T) {
	db := columnartest.Open(t, nil)
	cases := []struct {
		max  uint64
		want columnar.Encoding
	}{
		// Counters wider than a byte are stored byte-stream-split.
		{0, columnar.EncUint8}, {255, columnar.EncUint8}, {256, columnar.EncSplit16}, {65535, columnar.EncSplit16},
		{65536, columnar.EncSplit32}, {1<<32 - 1, columnar.EncSplit32}, {1 << 32, columnar.EncSplit64}, {1<<64 - 1, columnar.EncSplit64},
	}
	for i, c := range cases {
		b := &columnar.Block{Iface: "eth0", Start: t0 + int64(i)*300, End: t0 + int64(i+1)*300}
		b.Append(v4(10, 0, 0, 1), v4(10, 0, 0, 2), 80, 6, c.max, 1, 1, 1)
		b.Append(v4(10, 0, 0, 1), v4(10, 0, 0, 3), 80, 6, 0, 1, 1, 1)
		mustWrite(t, db, b)
		m := mustBlocks(t, db, columnar.Selector{From: b.Start, To: b.End})[0]
		ref, _ := m.Chunk(columnar.ColBytesIn, columnar.PartValues)
		if ref.Encoding != c.want {
			t.Errorf("max %d stored as %s, want %s", c.max, ref.Encoding, c.want)
		}
		col, err := db.ReadColumn(context.Background(), &m, columnar.ColBytesIn, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := col.Value(0); got != c.max {
			t.Errorf("max %d read back as %d", c.max, got)
		}
		if got, want := col.Values.DataType(), c.want.Plain().DataType(); !arrow.TypeEqual(got, want) {
			t.Errorf("max %d read as %s, want %s", c.max, got, want)
		}
		col.Release()
	}
	// Code widths follow the number of distinct addresses.
	for i, distinct := range []int{1, 256, 257, 65536, 65537} {
		b := &columnar.Block{Iface: "codes", Start: t0 + int64(i)*300, End: t0 + int64(i+1)*300}
		for j := range distinct {
			b.Append(v6(1, uint64(j)), v4(1, 1, 1, 1), 443, 6, 1, 1, 1, 1)
		}
		mustWrite(t, db, b)
		m := mustBlocks(t, db, columnar.Selector{Ifaces: []string{"codes"}, From: b.Start, To: b.End})[0]
		want := columnar.EncUint8
		if distinct > 256 {
			want = columnar.EncUint16
		}
		if distinct > 65536 {
			want = columnar.EncUint32
		}
		// Stored as runs (one row per sip here), sip codes are read at
		// the width its dictionary needs.
		sip, err := db.ReadColumn(context.Background(), &m, columnar.ColSIP, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := sip.Values.DataType(); !arrow.TypeEqual(got, want.DataType()) {
			t.Errorf("%d distinct sip: codes read as %s, want %s", distinct, got, want)
		}
		sip.Release()
		if ref, _ := m.Chunk(columnar.ColSIP, columnar.PartRuns); ref.Encoding != columnar.EncUint8 || ref.Rows != distinct {
			t.Errorf("%d distinct sip, one row each: runs stored as %d of %s, want %d of uint8", distinct, ref.Rows, ref.Encoding, distinct)
		}
		if ref, _ := m.Chunk(columnar.ColDIP, columnar.PartValues); ref.Encoding != columnar.EncUint8 {
			t.Errorf("1 distinct dip: codes stored as %s, want uint8", ref.Encoding)
		}
		if m.SIPDistinct != distinct || m.DIPDistinct != 1 {
			t.Errorf("distinct sip %d dip %d, want %d and 1", m.SIPDistinct, m.DIPDistinct, distinct)
		}
	}
}

func TestDictSortedAndLookup(t *testing.T) {
	mem := checkedMem(t)
	db := columnartest.Open(t, nil)
	b := newFlowGen(7).block("eth0", t0, 5000)
	mustWrite(t, db, b)
	m := mustBlocks(t, db, columnar.Selector{})[0]
	col, err := db.ReadColumn(context.Background(), &m, columnar.ColSIP, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer col.Release()
	d := col.Dict
	for i := 1; i < d.Len(); i++ {
		if a, b := d.At(i-1), d.At(i); slices.Compare(a[:], b[:]) >= 0 {
			t.Fatalf("dictionary not strictly ascending at %d: %x then %x", i, a, b)
		}
	}
	for _, a := range b.SIP {
		code, ok := d.Lookup(a)
		if !ok || d.At(int(code)) != a {
			t.Fatalf("lookup %x: code %d ok %v", a, code, ok)
		}
	}
	if _, ok := d.Lookup(v4(203, 0, 113, 1)); ok {
		t.Error("lookup of an absent address succeeded")
	}
	if _, ok := columnar.LookupAddr(d.Array(), [16]byte{}); ok {
		t.Error("lookup of :: succeeded")
	}
	// A CIDR prefix is a contiguous code range: 10.1.0.0/16.
	from, to := d.Range(v4(10, 1, 0, 0), v4(10, 1, 255, 255))
	want := 0
	for _, a := range b.SIP {
		if isV4(a) && a[12] == 10 && a[13] == 1 {
			want++
		}
	}
	got := 0
	for i := range col.Len() {
		if c := int(col.Value(i)); c >= from && c < to {
			got++
		}
	}
	if got != want || want == 0 {
		t.Errorf("rows in 10.1.0.0/16 by code range [%d, %d): %d, by scan: %d", from, to, got, want)
	}
	// Rows are sorted by sip, so the rows of one sip are contiguous.
	for i := 1; i < col.Len(); i++ {
		if col.Value(i) < col.Value(i-1) {
			t.Fatalf("sip codes decrease at row %d", i)
		}
	}
}

func TestPruningMetadata(t *testing.T) {
	db := columnartest.Open(t, nil)
	b := randomBlock(rand.New(rand.NewPCG(3, 4)), "eth0", t0, 2000)
	mustWrite(t, db, b)
	m := mustBlocks(t, db, columnar.Selector{})[0]
	sum := func(v []uint64) (s uint64) {
		for _, x := range v {
			s += x
		}
		return s
	}
	distinct := func(v [][16]byte) int {
		s := slices.Clone(v)
		slices.SortFunc(s, func(a, b [16]byte) int { return slices.Compare(a[:], b[:]) })
		return len(slices.Compact(s))
	}
	flags := columnar.FlagSorted
	type flow struct {
		sip, dip [16]byte
		port     uint16
		proto    uint8
	}
	seen := map[flow]bool{}
	for i := range b.SIP {
		seen[flow{b.SIP[i], b.DIP[i], b.DPort[i], b.Proto[i]}] = true
	}
	if len(seen) == b.Len() {
		flags |= columnar.FlagDistinct
	}
	v4First := true // no address sorts below ::ffff:0.0.0.0
	for _, a := range slices.Concat(b.SIP, b.DIP) {
		if slices.Compare(a[:], netip.MustParseAddr("::ffff:0.0.0.0").AsSlice()) < 0 {
			v4First = false
		}
	}
	if v4First {
		flags |= columnar.FlagV4First
	}
	want := columnar.BlockMeta{
		Iface: "eth0", Start: t0, End: t0 + 300, Rows: 2000, Version: columnar.FormatVersion, Flags: flags,
		SIPDistinct: distinct(b.SIP), DIPDistinct: distinct(b.DIP),
		MinDPort: slices.Min(b.DPort), MaxDPort: slices.Max(b.DPort),
		MinProto: slices.Min(b.Proto), MaxProto: slices.Max(b.Proto),
		BytesIn: sum(b.BytesIn), BytesOut: sum(b.BytesOut), PacketsIn: sum(b.PacketsIn), PacketsOut: sum(b.PacketsOut),
		NonIP: b.NonIP, ParseErrors: b.ParseErrors, File: m.File, Chunks: m.Chunks,
	}
	if !equalMeta(m, want) {
		t.Errorf("metadata\n got %+v\nwant %+v", m, want)
	}
	if m.File != "data/eth0/20250310.fsc" {
		t.Errorf("file %q", m.File)
	}
	// Both address columns mix IPv4 and IPv6: each dictionary has both
	// parts, and they split it by family. The values of every column but
	// sip (runs) are pages of columnartest.PageRows rows.
	parts := map[[2]int]int{}
	for _, c := range m.Chunks {
		parts[[2]int{int(c.Column), int(c.Part)}]++
	}
	if len(parts) != 12 {
		t.Errorf("%d parts, want 12: %v", len(parts), parts)
	}
	for _, id := range columnar.Columns()[1:] {
		if n := len(m.Pages(id, columnar.PartValues)); n != (2000+columnartest.PageRows-1)/columnartest.PageRows {
			t.Errorf("%s values in %d pages, want %d", id, n, (2000+columnartest.PageRows-1)/columnartest.PageRows)
		}
	}
	v4s := func(v [][16]byte) int {
		s := slices.Clone(v)
		slices.SortFunc(s, func(a, b [16]byte) int { return slices.Compare(a[:], b[:]) })
		n := 0
		for _, a := range slices.Compact(s) {
			if isV4(a) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		id         columnar.ColumnID
		v4, distin int
	}{{columnar.ColSIP, v4s(b.SIP), want.SIPDistinct}, {columnar.ColDIP, v4s(b.DIP), want.DIPDistinct}} {
		r4, ok4 := m.Chunk(c.id, columnar.PartDict4)
		r16, ok16 := m.Chunk(c.id, columnar.PartDict)
		if !ok4 || !ok16 || r4.Rows != c.v4 || r16.Rows != c.distin-c.v4 || r4.Encoding != columnar.EncAddr32 {
			t.Errorf("%s dictionary parts: dict4 %+v (%v), dict %+v (%v); want %d IPv4 of %d", c.id, r4, ok4, r16, ok16, c.v4, c.distin)
		}
	}
}

func equalMeta(a, b columnar.BlockMeta) bool {
	return reflect.DeepEqual(a, b)
}

// TestReadBlock covers ReadBlock (readblock.go): whole rows back, in
// storage order.
func TestReadBlock(t *testing.T) {
	mem := checkedMem(t)
	db := columnartest.Open(t, nil)
	b := randomBlock(rand.New(rand.NewPCG(9, 9)), "eth0", t0, 500)
	mustWrite(t, db, b)
	m := mustBlocks(t, db, columnar.Selector{})[0]
	got, err := db.ReadBlock(context.Background(), &m, mem)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rowsOf(got), storeOrder(rowsOf(b))) || got.NonIP != b.NonIP || got.Start != b.Start || got.End != b.End {
		t.Error("ReadBlock differs from the block written")
	}
}
