package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/ingest"
)

func TestMetricsHandler(t *testing.T) {
	sts := []ingest.LiveStatus{{
		Iface: "eth0", Running: true, Kernel: capture.RingStats{Packets: 120, Drops: 3, FreezeQueueCount: 1},
		Counts:    ingest.Counts{Packets: 117, Bytes: 9000, NonIP: 0, ParseErrors: 2, Flows: 40, Blocks: 4},
		OpenFlows: 7, LastWrite: time.Unix(1700000000, 500e6), MaxStall: 250 * time.Microsecond,
	}, {Iface: `we"ird`, Running: false}}
	srv := httptest.NewServer(metricsHandler(func() []ingest.LiveStatus { return sts }, time.Unix(1699999000, 0)))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL) // closed with srv: no idle connection outlives the test
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	for _, line := range []string{
		"flowsql_probe_start_time_seconds 1699999000",
		`flowsql_probe_up{iface="eth0"} 1`,
		`flowsql_probe_up{iface="we\"ird"} 0`,
		`flowsql_probe_kernel_packets_total{iface="eth0"} 120`,
		`flowsql_probe_kernel_drops_total{iface="eth0"} 3`,
		`flowsql_probe_kernel_freezes_total{iface="eth0"} 1`,
		`flowsql_probe_packets_total{iface="eth0"} 117`,
		`flowsql_probe_parse_errors_total{iface="eth0"} 2`,
		`flowsql_probe_open_flows{iface="eth0"} 7`,
		`flowsql_probe_blocks_written_total{iface="eth0"} 4`,
		`flowsql_probe_last_write_timestamp_seconds{iface="eth0"} 1.7000000005e+09`,
		`flowsql_probe_rotation_stall_max_seconds{iface="eth0"} 0.00025`,
		"# TYPE flowsql_probe_packets_total counter",
		"# TYPE flowsql_probe_open_flows gauge",
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("missing %q in:\n%s", line, body)
		}
	}
	post, err := srv.Client().Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %s, want 405", post.Status)
	}
}

func TestCheckMetricsAddr(t *testing.T) {
	for addr, ok := range map[string]bool{
		"": true, "127.0.0.1:9930": true, "[::1]:9930": true, "localhost:1": true, "127.1.2.3:80": true,
		"0.0.0.0:9930": false, ":9930": false, "10.0.0.1:9930": false, "127.0.0.1": false, "127.0.0.1:x": false,
		"example.com:80": false,
	} {
		if err := checkMetricsAddr(addr); (err == nil) != ok {
			t.Errorf("%q: %v", addr, err)
		}
	}
}
