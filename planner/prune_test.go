package planner

import (
	"github.com/flowsql/flowsql/columnar"
	"slices"
	"testing"
	"time"

	"github.com/flowsql/flowsql/columnar/columnartest"
)

// TestPruningIsReal asserts from the stats that pruning skips what it
// claims to skip.
func TestPruningIsReal(t *testing.T) {
	db := columnartest.Open(t, nil)
	cfg := genConfig{ifaces: []string{"eth0", "eth1"}, start: testStart.Unix(), blockLen: 300, blocks: 288, flows: 40, sips: 30, dips: 80, seed: 3}
	genStore(t, db, cfg)
	opts := testOptions(t)
	opts.Now = func() time.Time { return testStart.Add(24 * time.Hour) }

	t.Run("one hour of a day", func(t *testing.T) {
		for _, q := range []string{
			"SELECT dip, sum(bytes) FROM eth0 WHERE time >= '2025-03-10 05:00' AND time < '2025-03-10 06:00' GROUP BY dip",
			"SELECT dip, sum(bytes) FROM eth0 WHERE time BETWEEN '2025-03-10 05:00' AND '2025-03-10 05:59:59' GROUP BY dip",
			"SELECT dip, sum(bytes) FROM eth0 WHERE time >= -19h AND time < -18h GROUP BY dip",
		} {
			st := run(t, db, q, opts).Stats
			if st.BlocksTotal != 12 || st.BlocksRead != 12 {
				t.Errorf("%s: %d candidate blocks, %d read; want 12 and 12", q, st.BlocksTotal, st.BlocksRead)
			}
			from, to := testStart.Add(5*time.Hour), testStart.Add(6*time.Hour)
			if !st.From.Equal(from) || !st.To.Equal(to) {
				t.Errorf("%s: covered [%v, %v), want [%v, %v)", q, st.From, st.To, from, to)
			}
		}
		// Disjoint time ranges: the index reads the hull, the fold prunes the gap.
		st := run(t, db, "SELECT dip, count(*) WHERE time < '2025-03-10 01:00' OR time >= '2025-03-10 23:00' GROUP BY dip", opts).Stats
		if st.BlocksRead != 48 || st.PrunedTime != 2*(288-24) {
			t.Errorf("two hours of two interfaces: read %d, pruned by time %d", st.BlocksRead, st.PrunedTime)
		}
	})

	t.Run("absent address reads no rows", func(t *testing.T) {
		metas, err := db.Blocks(t.Context(), columnar.Selector{})
		if err != nil {
			t.Fatal(err)
		}
		// Only the sip dictionaries are read, no codes, no values: for an
		// IPv4 address their IPv4 parts alone (every generated block has
		// its IPv4 codes first), for an IPv6 one both parts.
		for _, c := range []struct {
			addr  string
			parts []columnar.Part
		}{
			{"192.0.2.77", []columnar.Part{columnar.PartDict4}},
			{"2001:db8::77", []columnar.Part{columnar.PartDict4, columnar.PartDict}},
		} {
			st := run(t, db, "SELECT dip, sum(bytes) WHERE sip = "+c.addr+" GROUP BY dip", opts).Stats
			if st.BlocksRead != 0 || st.RowsScanned != 0 || st.PrunedDict != 2*288 {
				t.Errorf("%s: read %d blocks, %d rows, pruned by dictionary %d", c.addr, st.BlocksRead, st.RowsScanned, st.PrunedDict)
			}
			dicts := 0
			var disk int64
			for _, m := range metas {
				if m.Flags&columnar.FlagV4First == 0 {
					t.Fatalf("block %s@%d lacks FlagV4First", m.Iface, m.Start)
				}
				for _, ref := range m.Chunks {
					if ref.Column == columnar.ColSIP && slices.Contains(c.parts, ref.Part) {
						dicts++
						disk += ref.Length
					}
				}
			}
			if st.ChunksRead != dicts || st.BytesRead != disk || !slices.Equal(st.ColumnsRead, []string{"sip"}) {
				t.Errorf("%s: read %d chunks, %d bytes of %v; want the %d %v chunks of [sip], %d bytes",
					c.addr, st.ChunksRead, st.BytesRead, st.ColumnsRead, dicts, c.parts, disk)
			}
		}
	})

	t.Run("only named columns", func(t *testing.T) {
		st := run(t, db, "SELECT dport, proto, count(*) WHERE dport < 1024 GROUP BY dport, proto", opts).Stats
		if !slices.Equal(st.ColumnsRead, []string{"dport", "proto"}) || st.ChunksRead != 2*st.BlocksRead || st.BlocksRead == 0 {
			t.Errorf("read %v in %d chunks of %d blocks", st.ColumnsRead, st.ChunksRead, st.BlocksRead)
		}
	})

	t.Run("statistics answer", func(t *testing.T) {
		res := run(t, db, "SELECT bucket(time, 1h) AS h, iface, count(*), sum(bytes), max(dport) GROUP BY h, iface ORDER BY h, iface", opts)
		if st := res.Stats; st.ChunksRead != 0 || st.BlocksFromStats != 2*288 || res.NumRows() != 48 {
			t.Errorf("%d chunks read, %d blocks from statistics, %d rows", st.ChunksRead, st.BlocksFromStats, res.NumRows())
		}
	})

	t.Run("sorted sip range", func(t *testing.T) {
		all := run(t, db, "SELECT sip, count(*) GROUP BY sip ORDER BY 2 DESC LIMIT 1", opts)
		top := all.Columns[0].Addrs[0]
		st := run(t, db, "SELECT dip, sum(bytes) WHERE sip = "+top.String()+" GROUP BY dip", opts).Stats
		if st.RowsScanned != st.RowsMatched || st.RowsMatched != int64(all.Columns[1].Uints[0]) {
			t.Errorf("scanned %d rows, matched %d, the sip has %d", st.RowsScanned, st.RowsMatched, all.Columns[1].Uints[0])
		}
	})

	t.Run("statistics prune ports", func(t *testing.T) {
		st := run(t, db, "SELECT sip, count(*) WHERE dport = 65535 GROUP BY sip", opts).Stats
		if st.PrunedStats+st.BlocksRead != st.BlocksTotal || st.PrunedStats == 0 {
			t.Errorf("pruned by statistics %d, read %d of %d", st.PrunedStats, st.BlocksRead, st.BlocksTotal)
		}
		st = run(t, db, "SELECT count(*) WHERE iface = eth1 AND dport >= 0", opts).Stats
		if st.PrunedIface != 288 || st.BlocksFromStats != 288 || st.ChunksRead != 0 {
			t.Errorf("iface condition: pruned %d, from statistics %d, chunks %d", st.PrunedIface, st.BlocksFromStats, st.ChunksRead)
		}
	})
}
