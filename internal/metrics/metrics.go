// Package metrics writes the Prometheus text exposition format (version
// 0.0.4), by hand: a handful of counters and gauges do not need the client
// library.
//
//	# HELP flowsql_probe_packets_total Frames processed.
//	# TYPE flowsql_probe_packets_total counter
//	flowsql_probe_packets_total{iface="eth0"} 1234
//
// A Writer appends families to a caller-owned buffer. Names must match
// [a-zA-Z_:][a-zA-Z0-9_:]* and label names [a-zA-Z_][a-zA-Z0-9_]*; label
// values are escaped (backslash, double quote, newline) as the format
// requires, and HELP text likewise (backslash, newline).
package metrics

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ContentType is the Content-Type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Type is a metric family's type.
type Type string

// Metric types used by flowsql.
const (
	Counter Type = "counter"
	Gauge   Type = "gauge"
)

// ErrName reports a metric or label name the format does not allow.
var ErrName = errors.New("metrics: invalid name")

// Label is one name="value" pair of a sample.
type Label struct{ Name, Value string }

// Writer appends metric families to Buf. The first error (a bad name, a
// family repeated) sticks: later calls do nothing and Err returns it.
type Writer struct {
	Buf  []byte
	err  error
	seen map[string]bool
	cur  string // name of the family being written
}

// Family starts a family: its HELP and TYPE lines. Samples of the family
// follow with Sample.
func (w *Writer) Family(name, help string, typ Type) {
	if w.err != nil {
		return
	}
	if !validName(name, true) {
		w.err = fmt.Errorf("%w: metric %q", ErrName, name)
		return
	}
	if w.seen[name] {
		w.err = fmt.Errorf("%w: metric family %q written twice", ErrName, name)
		return
	}
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	w.seen[name] = true
	w.cur = name
	w.Buf = append(w.Buf, "# HELP "...)
	w.Buf = append(w.Buf, name...)
	w.Buf = append(w.Buf, ' ')
	w.Buf = appendEscaped(w.Buf, help, false)
	w.Buf = append(w.Buf, "\n# TYPE "...)
	w.Buf = append(w.Buf, name...)
	w.Buf = append(w.Buf, ' ')
	w.Buf = append(w.Buf, typ...)
	w.Buf = append(w.Buf, '\n')
}

// Sample writes one sample of the current family.
func (w *Writer) Sample(value float64, labels ...Label) {
	if w.err != nil {
		return
	}
	if w.cur == "" {
		w.err = fmt.Errorf("%w: sample before any family", ErrName)
		return
	}
	w.Buf = append(w.Buf, w.cur...)
	if len(labels) > 0 {
		w.Buf = append(w.Buf, '{')
		for i, l := range labels {
			if !validName(l.Name, false) {
				w.err = fmt.Errorf("%w: label %q of %s", ErrName, l.Name, w.cur)
				return
			}
			if i > 0 {
				w.Buf = append(w.Buf, ',')
			}
			w.Buf = append(w.Buf, l.Name...)
			w.Buf = append(w.Buf, '=', '"')
			w.Buf = appendEscaped(w.Buf, l.Value, true)
			w.Buf = append(w.Buf, '"')
		}
		w.Buf = append(w.Buf, '}')
	}
	w.Buf = append(w.Buf, ' ')
	w.Buf = appendValue(w.Buf, value)
	w.Buf = append(w.Buf, '\n')
}

// Err returns the first error.
func (w *Writer) Err() error { return w.err }

// appendValue formats a sample value: integers exactly, others in the
// shortest form, and the special values as the format spells them.
func appendValue(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "+Inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-Inf"...)
	case v == math.Trunc(v) && math.Abs(v) < 1<<53:
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// appendEscaped escapes backslash and newline, and the double quote in
// label values.
func appendEscaped(dst []byte, s string, quote bool) []byte {
	if !strings.ContainsAny(s, "\\\n\"") {
		return append(dst, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '"' && quote:
			dst = append(dst, '\\', '"')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// validName checks a metric name (colons allowed) or a label name.
func validName(s string, metric bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
			(i > 0 && c >= '0' && c <= '9') || (metric && c == ':')
		if !ok {
			return false
		}
	}
	return !strings.HasPrefix(s, "__") || metric
}
