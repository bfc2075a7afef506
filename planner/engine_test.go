package planner

import (
	"testing"

	"github.com/flowsql/flowsql/columnar/columnartest"
)

// TestQueriesMatchSlow runs hand-picked queries covering every clause and
// compares the engine with the slow evaluator.
func TestQueriesMatchSlow(t *testing.T) {
	db := openSmall(t)
	rows := slowRows(t, db, testHost)
	queries := []string{
		"SELECT count(*)",
		"SELECT count(*), sum(bytes), min(dport), max(bytes_in), avg(packets) WHERE sip = 1.2.3.4",
		"SELECT sip, sum(bytes) AS b GROUP BY sip ORDER BY b DESC, sip LIMIT 7",
		"SELECT sip, dip, dport, proto, sum(bytes) AS b GROUP BY sip, dip, dport, proto ORDER BY b DESC LIMIT 10",
		"SELECT dport, proto, sum(packets) WHERE dip IN 10.0.0.0/8 GROUP BY dport, proto",
		"SELECT bucket(time, 1h) AS t, sum(bytes) GROUP BY t ORDER BY t",
		"SELECT bucket(time, 1h) AS t, iface, count(*), sum(bytes_in) FROM eth1 WHERE time >= -2h GROUP BY t, iface ORDER BY 1, 2",
		"SELECT iface, host, count(DISTINCT sip), count(DISTINCT dip), count(DISTINCT dport) GROUP BY iface, host ORDER BY iface",
		"SELECT proto, min(time), max(time), count(*) WHERE NOT (dport BETWEEN 1 AND 1023) GROUP BY proto ORDER BY proto",
		"SELECT sip, dip, bytes WHERE bytes > 100000 AND sip IN (10.0.0.0/8, 2001:db8::/32) ORDER BY bytes DESC, sip, dip LIMIT 20",
		"SELECT time, iface, sip, dport FROM eth0 WHERE dport = 22 LIMIT 15",
		"SELECT sip, dport WHERE packets_in < packets_out OR proto = icmp ORDER BY sip, dport",
		"SELECT dip, count(*) WHERE sip < 10.1.0.0 AND dip != 10.0.0.1 GROUP BY dip ORDER BY 2 DESC, dip LIMIT 5",
		"SELECT dport, avg(bytes) AS a GROUP BY dport ORDER BY a DESC, dport LIMIT 5",
		"SELECT sum(bytes) WHERE time BETWEEN '2025-03-10 01:00' AND '2025-03-10 01:59:59' AND iface = eth0",
		"SELECT count(*) WHERE host = 'probe-1' AND iface IN (eth1)",
		"SELECT count(*) WHERE host != 'probe-1'",
		"SELECT dport GROUP BY dport ORDER BY dport LIMIT 3",
		"SELECT bytes, count(*) WHERE bytes < 200 GROUP BY bytes ORDER BY bytes",
	}
	for _, q := range queries {
		t.Run("", func(t *testing.T) {
			opts := testOptions(t)
			p := prepare(t, q, opts)
			res := run(t, db, q, opts)
			want := slowQuery(p.Statement(), rows, testNow)
			compareRows(t, q, rowsOf(res), want, distinctItems(p.Statement()), isAggQuery(p.Statement()) && len(p.Statement().OrderBy) == 0)
		})
	}
}

// TestEmptyStore runs queries on a store without blocks and on missing
// interfaces.
func TestEmptyStore(t *testing.T) {
	db := columnartest.Open(t, nil)
	for _, q := range []string{"SELECT count(*), sum(bytes)", "SELECT sip, count(*) GROUP BY sip", "SELECT sip LIMIT 3", "SELECT * FROM eth9 ORDER BY bytes_in LIMIT 2"} {
		res := run(t, db, q, testOptions(t))
		want := 0
		if q == "SELECT count(*), sum(bytes)" {
			want = 1
		}
		if res.NumRows() != want || res.Stats.BlocksTotal != 0 {
			t.Errorf("%s: %d rows, %d blocks", q, res.NumRows(), res.Stats.BlocksTotal)
		}
		text, err := prepare(t, q, testOptions(t)).Explain(t.Context(), db)
		if err != nil || text == "" {
			t.Errorf("explain %s: %v", q, err)
		}
	}
}
