package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/flowsql/flowsql/planner"
	"github.com/flowsql/flowsql/sql"
)

// outputFormat is a --format of query results.
type outputFormat uint8

const (
	formatTable outputFormat = iota
	formatCSV
	formatJSON
	formatArrow
)

// parseFormat reads a --format value.
func parseFormat(s string) (outputFormat, error) {
	switch s {
	case "table":
		return formatTable, nil
	case "csv":
		return formatCSV, nil
	case "json":
		return formatJSON, nil
	case "arrow":
		return formatArrow, nil
	}
	return 0, fmt.Errorf("unknown --format %q (want table, csv, json or arrow)", s)
}

// unit says how the table format shows a counter column.
type unit uint8

const (
	unitPlain   unit = iota
	unitBytes        // KiB, MiB, GiB
	unitPackets      // k, M
)

// itemUnit returns the unit of a select item: bytes for bytes, bytes_in,
// bytes_out and the sum, min, max or avg of one of them; packets likewise.
func itemUnit(it *sql.SelectItem) unit {
	var col sql.Column
	switch e := it.Expr.(type) {
	case *sql.ColumnRef:
		col = e.Column
	case *sql.Aggregate:
		if e.Arg == nil || e.Func == sql.AggCountDistinct {
			return unitPlain
		}
		col = e.Arg.Column
	default:
		return unitPlain
	}
	switch col {
	case sql.ColBytes, sql.ColBytesIn, sql.ColBytesOut:
		return unitBytes
	case sql.ColPackets, sql.ColPacketsIn, sql.ColPacketsOut:
		return unitPackets
	}
	return unitPlain
}

// isAggregate reports whether a query has aggregates or GROUP BY (else it
// lists rows).
func isAggregate(stmt *sql.Select) bool {
	if len(stmt.GroupBy) > 0 {
		return true
	}
	for _, it := range stmt.Items {
		if _, ok := it.Expr.(*sql.Aggregate); ok {
			return true
		}
	}
	return false
}

// resultWriter writes query results to one stream in one format.
type resultWriter struct {
	w       io.Writer
	format  outputFormat
	units   []unit // per result column
	agg     bool   // aggregates or GROUP BY; else a listing
	grouped bool   // GROUP BY
}

func newResultWriter(w io.Writer, stmt *sql.Select, format outputFormat) *resultWriter {
	rw := &resultWriter{w: w, format: format, agg: isAggregate(stmt), grouped: len(stmt.GroupBy) > 0}
	for _, it := range stmt.Items {
		rw.units = append(rw.units, itemUnit(it))
	}
	return rw
}

// write writes a whole result; took is the planner's time, for the table
// footer.
func (rw *resultWriter) write(res *planner.Result, took time.Duration) error {
	switch rw.format {
	case formatTable:
		return rw.writeTable(res, took)
	case formatArrow:
		return writeArrowStream(rw.w, res)
	}
	bw := bufio.NewWriterSize(rw.w, 64<<10)
	var err error
	if rw.format == formatCSV {
		err = writeCSV(bw, res, true)
	} else {
		err = writeJSON(bw, res)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// writeCSV writes the result as CSV rows (RFC 4180, \n line ends), after a
// header of the column names when header is set.
func writeCSV(w *bufio.Writer, res *planner.Result, header bool) error {
	var buf []byte
	if header {
		for j := range res.Columns {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = appendCSVField(buf, res.Columns[j].Name)
		}
		buf = append(buf, '\n')
	}
	for i := range res.NumRows() {
		for j := range res.Columns {
			if j > 0 {
				buf = append(buf, ',')
			}
			c := &res.Columns[j]
			if c.Type == planner.TypeString {
				if !c.IsNull(i) {
					buf = appendCSVField(buf, c.Strings[i])
				}
				continue
			}
			buf = appendRaw(buf, c, i)
		}
		buf = append(buf, '\n')
		if len(buf) >= 32<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

// writeJSON writes the result as a JSON array of objects, one per line,
// with keys in column order.
func writeJSON(w *bufio.Writer, res *planner.Result) error {
	keys := make([][]byte, len(res.Columns))
	for j := range res.Columns {
		keys[j] = append(appendJSONString(nil, res.Columns[j].Name), ':')
	}
	buf := []byte("[\n")
	for i := range res.NumRows() {
		if i > 0 {
			buf = append(buf, ",\n"...)
		}
		buf = append(buf, '{')
		for j := range res.Columns {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, keys[j]...)
			c := &res.Columns[j]
			switch {
			case c.IsNull(i):
				buf = append(buf, "null"...)
			case c.Type == planner.TypeString:
				buf = appendJSONString(buf, c.Strings[i])
			case c.Type == planner.TypeTime || c.Type == planner.TypeAddr:
				buf = append(buf, '"')
				buf = appendRaw(buf, c, i)
				buf = append(buf, '"')
			default:
				buf = appendRaw(buf, c, i)
			}
		}
		buf = append(buf, '}')
		if len(buf) >= 32<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if res.NumRows() > 0 {
		buf = append(buf, '\n')
	}
	buf = append(buf, "]\n"...)
	_, err := w.Write(buf)
	return err
}

// appendRaw appends row i of c as machine-readable text: RFC 3339 UTC
// times, addresses, decimal numbers (protocols as numbers), nothing for a
// null. Strings are appended unquoted.
func appendRaw(dst []byte, c *planner.Column, i int) []byte {
	if c.IsNull(i) {
		return dst
	}
	switch c.Type {
	case planner.TypeTime:
		return time.Unix(c.Times[i], 0).UTC().AppendFormat(dst, time.RFC3339)
	case planner.TypeString:
		return append(dst, c.Strings[i]...)
	case planner.TypeAddr:
		return c.Addrs[i].AppendTo(dst)
	case planner.TypeFloat:
		return strconv.AppendFloat(dst, c.Floats[i], 'f', -1, 64)
	}
	return strconv.AppendUint(dst, c.Uints[i], 10)
}

// appendCSVField appends s, quoted when it holds a comma, quote, line
// break or leading space.
func appendCSVField(dst []byte, s string) []byte {
	quote := s != "" && (s[0] == ' ' || s[0] == '\t')
	for i := 0; i < len(s) && !quote; i++ {
		switch s[i] {
		case ',', '"', '\n', '\r':
			quote = true
		}
	}
	if !quote {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			dst = append(dst, '\\', byte(r))
		case r == '\n':
			dst = append(dst, '\\', 'n')
		case r == '\t':
			dst = append(dst, '\\', 't')
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			dst = append(dst, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		default:
			dst = utf8.AppendRune(dst, r)
		}
	}
	return append(dst, '"')
}
