package metrics

import (
	"errors"
	"math"
	"testing"
)

func TestWriterGolden(t *testing.T) {
	var w Writer
	w.Family("flowsql_probe_packets_total", "Frames processed.", Counter)
	w.Sample(1234, Label{"iface", "eth0"})
	w.Sample(0, Label{"iface", `we"ird\name` + "\n"})
	w.Family("flowsql_probe_up", "1 while capturing.\nSecond line \\ here.", Gauge)
	w.Sample(1, Label{"iface", "eth0"}, Label{"index", "2"})
	w.Family("flowsql_x", "Values.", Gauge)
	w.Sample(0.25)
	w.Sample(math.NaN())
	w.Sample(math.Inf(1))
	w.Sample(math.Inf(-1))
	w.Sample(1e300)
	w.Sample(-3)
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	want := `# HELP flowsql_probe_packets_total Frames processed.
# TYPE flowsql_probe_packets_total counter
flowsql_probe_packets_total{iface="eth0"} 1234
flowsql_probe_packets_total{iface="we\"ird\\name\n"} 0
# HELP flowsql_probe_up 1 while capturing.\nSecond line \\ here.
# TYPE flowsql_probe_up gauge
flowsql_probe_up{iface="eth0",index="2"} 1
# HELP flowsql_x Values.
# TYPE flowsql_x gauge
flowsql_x 0.25
flowsql_x NaN
flowsql_x +Inf
flowsql_x -Inf
flowsql_x 1e+300
flowsql_x -3
`
	if got := string(w.Buf); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriterErrors(t *testing.T) {
	for name, f := range map[string]func(w *Writer){
		"bad metric name":  func(w *Writer) { w.Family("9lives", "", Gauge) },
		"dash in name":     func(w *Writer) { w.Family("a-b", "", Gauge) },
		"bad label":        func(w *Writer) { w.Family("a", "", Gauge); w.Sample(1, Label{"a:b", "x"}) },
		"reserved label":   func(w *Writer) { w.Family("a", "", Gauge); w.Sample(1, Label{"__name__", "x"}) },
		"sample first":     func(w *Writer) { w.Sample(1) },
		"family twice":     func(w *Writer) { w.Family("a", "", Gauge); w.Family("a", "", Gauge) },
		"empty label name": func(w *Writer) { w.Family("a", "", Gauge); w.Sample(1, Label{"", "x"}) },
	} {
		var w Writer
		f(&w)
		if !errors.Is(w.Err(), ErrName) {
			t.Errorf("%s: err %v, want ErrName", name, w.Err())
		}
		n := len(w.Buf)
		w.Family("later", "", Gauge) // sticky: nothing more is written
		if len(w.Buf) != n {
			t.Errorf("%s: wrote after an error", name)
		}
	}
}

func TestWriterNoAllocs(t *testing.T) {
	w := Writer{Buf: make([]byte, 0, 4096)}
	w.Family("flowsql_probe_packets_total", "Frames processed.", Counter)
	labels := []Label{{"iface", "eth0"}}
	n := testing.AllocsPerRun(1000, func() {
		w.Buf = w.Buf[:0]
		w.Sample(123456789, labels...)
	})
	if n != 0 {
		t.Errorf("%v allocations per sample, want 0", n)
	}
}
