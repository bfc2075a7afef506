package main

import "testing"

func TestIsQueryRun(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"query", "SELECT count(*)"}, true},
		{[]string{"--db", "x", "query", "SELECT 1"}, true},
		{[]string{"--db=x", "export", "out.parquet"}, true},
		{[]string{"SELECT dip, sum(bytes) GROUP BY dip"}, true},
		{[]string{"--db", "query", "probe"}, false}, // "query" is the --db value
		{[]string{"probe", "-i", "eth0"}, false},
		{[]string{"ingest", "a.pcap"}, false},
		{[]string{"demo"}, false},
		{nil, false},
	} {
		if got := isQueryRun(c.args); got != c.want {
			t.Errorf("isQueryRun(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}
