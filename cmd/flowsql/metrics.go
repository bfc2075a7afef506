package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/flowsql/flowsql/ingest"
	"github.com/flowsql/flowsql/internal/metrics"
)

// defaultMetricsAddr is where the probe serves /metrics unless told
// otherwise; "" (--metrics "") turns the endpoint off.
const defaultMetricsAddr = "127.0.0.1:9930"

// checkMetricsAddr accepts only loopback addresses: the endpoint has no
// authentication and names the host's interfaces and traffic volumes.
func checkMetricsAddr(addr string) error {
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--metrics %q: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("--metrics %q: bad port", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--metrics %q: not a loopback address (the endpoint has no authentication; put a proxy in front to expose it)", addr)
	}
	return nil
}

// metricsHandler serves the probe's counters in the Prometheus text
// format, one series per interface (label iface).
func metricsHandler(status func() []ingest.LiveStatus, started time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		var mw metrics.Writer
		writeMetrics(&mw, status(), started)
		if err := mw.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", metrics.ContentType)
		_, _ = w.Write(mw.Buf)
	})
}

// metricDef is one family of per-interface series.
type metricDef struct {
	name, help string
	typ        metrics.Type
	value      func(s *ingest.LiveStatus) float64
}

var ifaceMetrics = []metricDef{
	{"flowsql_probe_up", "1 while the interface is being captured.", metrics.Gauge,
		func(s *ingest.LiveStatus) float64 { return b2f(s.Running) }},
	{"flowsql_probe_kernel_packets_total", "Packets the kernel passed to the capture rings (drops included).", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.Kernel.Packets) }},
	{"flowsql_probe_kernel_drops_total", "Packets the kernel dropped for want of ring space.", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.Kernel.Drops) }},
	{"flowsql_probe_kernel_freezes_total", "Times a ring ran full and the kernel froze it.", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.Kernel.FreezeQueueCount) }},
	{"flowsql_probe_packets_total", "Frames processed.", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.Packets) }},
	{"flowsql_probe_bytes_total", "Bytes of the frames processed (wire length).", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.Bytes) }},
	{"flowsql_probe_parse_errors_total", "Frames too short or malformed to read an IP header.", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.ParseErrors) }},
	{"flowsql_probe_non_ip_total", "Frames that are not IP.", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.NonIP) }},
	{"flowsql_probe_overflow_total", "IP packets of new flows refused because a block was full.", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.Overflow) }},
	{"flowsql_probe_open_flows", "Flows in the open block.", metrics.Gauge,
		func(s *ingest.LiveStatus) float64 { return float64(s.OpenFlows) }},
	{"flowsql_probe_blocks_written_total", "Blocks written to the store.", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.Blocks) }},
	{"flowsql_probe_flows_written_total", "Flows (rows) written to the store.", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.Flows) }},
	{"flowsql_probe_last_write_timestamp_seconds", "When a block was last written (unix time), 0 if never.", metrics.Gauge,
		func(s *ingest.LiveStatus) float64 { return unixSeconds(s.LastWrite) }},
	{"flowsql_probe_write_errors_total", "Failed block write attempts.", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.WriteErrors) }},
	{"flowsql_probe_dropped_blocks_total", "Blocks given up after failed writes.", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.Dropped) }},
	{"flowsql_probe_ring_errors_total", "Transient ring errors (interface down, corrupt block).", metrics.Counter,
		func(s *ingest.LiveStatus) float64 { return float64(s.RingErrors) }},
	{"flowsql_probe_rotation_stall_max_seconds", "Longest time capture could not read packets because of a rotation.", metrics.Gauge,
		func(s *ingest.LiveStatus) float64 { return s.MaxStall.Seconds() }},
}

// writeMetrics writes every family for sts.
func writeMetrics(w *metrics.Writer, sts []ingest.LiveStatus, started time.Time) {
	w.Family("flowsql_probe_start_time_seconds", "When the probe started (unix time).", metrics.Gauge)
	w.Sample(unixSeconds(started))
	for _, m := range ifaceMetrics {
		w.Family(m.name, m.help, m.typ)
		for i := range sts {
			w.Sample(m.value(&sts[i]), metrics.Label{Name: "iface", Value: sts[i].Iface})
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
