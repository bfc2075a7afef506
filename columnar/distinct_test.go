package columnar_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
	bolt "go.etcd.io/bbolt"
)

// distinctBlock is a block of n flows from one client to one server on
// distinct ports (one (sip, dip) run of n rows), then a few flows of
// other pairs; dup repeats row dupOf as the last row when dupOf >= 0.
func distinctBlock(start int64, n, dupOf int) *columnar.Block {
	b := &columnar.Block{Iface: "eth0", Start: start, End: start + 300}
	for i := range n {
		b.Append(v4(10, 0, 0, 1), v4(192, 0, 2, 1), uint16(1000+i/2), uint8(6+11*(i%2)), uint64(i), 1, 1, 1)
	}
	for i := range 5 {
		b.Append(v4(10, 0, 0, byte(2+i)), v6(0x20010db8, uint64(i)), 443, 6, 10, 1, 1, 1)
	}
	if dupOf >= 0 {
		b.Append(b.SIP[dupOf], b.DIP[dupOf], b.DPort[dupOf], b.Proto[dupOf], 7, 7, 7, 7)
	}
	return b
}

// TestDistinctFlag: the writer flags a block whose rows are distinct
// flows, and only such a block, whether the rows of one (sip, dip) are few
// (compared pairwise) or many (compared sorted).
func TestDistinctFlag(t *testing.T) {
	cases := []struct {
		name   string
		n, dup int
		want   bool
	}{
		{"short runs distinct", 6, -1, true},
		{"short run repeats", 6, 3, false},
		{"long run distinct", 400, -1, true},
		{"long run repeats its first row", 400, 0, false},
		{"long run repeats a middle row", 400, 217, false},
		{"other pair repeats", 6, 8, false},
	}
	db, err := columnar.Open(context.Background(), t.TempDir(), &columnar.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, c := range cases {
		start := int64(t0 + 300*i)
		mustWrite(t, db, distinctBlock(start, c.n, c.dup))
		m := mustBlocks(t, db, columnar.Selector{From: start, To: start + 1})[0]
		if got := m.Flags&columnar.FlagDistinct != 0; got != c.want {
			t.Errorf("%s: FlagDistinct = %v, want %v", c.name, got, c.want)
		}
		if m.Flags&columnar.FlagSorted == 0 {
			t.Errorf("%s: FlagSorted missing", c.name)
		}
	}
	if errs := db.Check(context.Background()); len(errs) != 0 {
		t.Errorf("check: %v", errs)
	}
}

// TestCheckDistinctFlag: a block entry that claims distinct flows over
// rows that repeat one is reported by Check.
func TestCheckDistinctFlag(t *testing.T) {
	dir := storeWithEntry(t, distinctBlock(t0, 40, 17), func(m *columnar.BlockMeta) {
		if m.Flags&columnar.FlagDistinct != 0 {
			t.Fatal("the writer flagged a block that repeats a flow")
		}
		m.Flags |= columnar.FlagDistinct
	})
	db := openNoCheck(t, dir)
	errs := db.Check(context.Background())
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "repeats (sip, dip, dport, proto)") {
		t.Errorf("check over a false distinct flag: %v", errs)
	}
}

// storeWithEntry writes b alone to a new store, lets edit change its index
// entry as damage or a bug would (bypassing the writer's checks), and
// returns the store's folder.
func storeWithEntry(t *testing.T, b *columnar.Block, edit func(m *columnar.BlockMeta)) string {
	t.Helper()
	dir := t.TempDir()
	db, err := columnar.Open(context.Background(), dir, columnartest.Options())
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, db, b)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(filepath.Join(dir, columnar.IndexFileName), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte("blocks")).Bucket([]byte(b.Iface))
		k, v := bk.Cursor().First()
		var m columnar.BlockMeta
		if err := m.Unmarshal(v); err != nil {
			return err
		}
		edit(&m)
		return bk.Put(append([]byte(nil), k...), m.AppendTo(nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
