package main

import (
	"bufio"
	"fmt"
	"github.com/flowsql/flowsql/internal/units"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowsql/flowsql/planner"
)

// The table format: a header of the item names, aligned columns (numbers
// right-aligned), bytes in binary units, packets in k/M, protocols by
// name, times as UTC minutes, "-" for no value; then a footer.

// tableCell formats row i of c for the table.
func tableCell(c *planner.Column, u unit, i int) string {
	if c.IsNull(i) {
		return "-"
	}
	switch c.Type {
	case planner.TypeTime:
		return timeUTC(c.Times[i])
	case planner.TypeString:
		return c.Strings[i]
	case planner.TypeAddr:
		return c.Addrs[i].String()
	case planner.TypeProto:
		return planner.ProtoName(c.Uints[i])
	case planner.TypeFloat:
		return humanFloat(c.Floats[i], u)
	case planner.TypeUint:
		switch u {
		case unitBytes:
			return units.Bytes(c.Uints[i])
		case unitPackets:
			return units.Count(c.Uints[i])
		}
	}
	return strconv.FormatUint(c.Uints[i], 10)
}

// humanFloat formats an average in its unit.
func humanFloat(f float64, u unit) string {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "-"
	case u == unitBytes && f < 1024:
		return strconv.FormatFloat(f, 'f', 0, 64) + " B"
	case u == unitBytes:
		return units.Bytes(uint64(math.Round(f)))
	case f < 1000:
		return strconv.FormatFloat(f, 'f', 1, 64)
	case u == unitPackets:
		return units.Count(uint64(math.Round(f)))
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// rightAligned reports whether a column of type t is right-aligned.
func rightAligned(t planner.Type) bool {
	return t == planner.TypePort || t == planner.TypeUint || t == planner.TypeFloat
}

func (rw *resultWriter) writeTable(res *planner.Result, took time.Duration) error {
	bw := bufio.NewWriterSize(rw.w, 64<<10)
	n := res.NumRows()
	widths := make([]int, len(res.Columns))
	for j := range res.Columns {
		widths[j] = utf8.RuneCountInString(res.Columns[j].Name)
		for i := range n {
			widths[j] = max(widths[j], utf8.RuneCountInString(tableCell(&res.Columns[j], rw.unit(j), i)))
		}
	}
	cells := make([]string, len(res.Columns))
	row := func() {
		for j, s := range cells {
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(s))
			if j > 0 {
				bw.WriteString("  ")
			}
			if rightAligned(res.Columns[j].Type) {
				bw.WriteString(pad)
				bw.WriteString(s)
			} else if j < len(cells)-1 {
				bw.WriteString(s)
				bw.WriteString(pad)
			} else {
				bw.WriteString(s) // no trailing blanks
			}
		}
		bw.WriteByte('\n')
	}
	for j := range res.Columns {
		cells[j] = res.Columns[j].Name
	}
	row()
	for i := range n {
		for j := range res.Columns {
			cells[j] = tableCell(&res.Columns[j], rw.unit(j), i)
		}
		row()
	}
	bw.WriteByte('\n')
	for _, l := range footer(res, rw.agg, rw.grouped, took) {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func (rw *resultWriter) unit(j int) unit {
	if j < len(rw.units) {
		return rw.units[j]
	}
	return unitPlain
}

// footer describes the work behind a result: rows and groups, the time
// span and interfaces it covers, blocks read and pruned, bytes read, time
// taken and damaged blocks.
func footer(res *planner.Result, agg, grouped bool, took time.Duration) []string {
	st := &res.Stats
	var out []string
	l := plural(res.NumRows(), "row")
	switch {
	case grouped && st.TopN:
		// The bound ruled out all but st.Groups groups without counting
		// the others (planner/topk.go).
		l += fmt.Sprintf(", the largest of all groups (threshold top-N: %s checked, the others bounded out uncounted)",
			plural(st.Groups, "candidate"))
	case grouped && st.Groups != res.NumRows():
		l += fmt.Sprintf(" of %s", plural(st.Groups, "group"))
	case !agg && st.Groups != res.NumRows():
		l += fmt.Sprintf(" of %d matching", st.Groups)
	}
	if st.From.IsZero() {
		l += "; no stored block matched"
	} else {
		l += fmt.Sprintf("; data from %s to %s UTC", timeUTC(st.From.Unix()), timeUTC(st.To.Unix()))
	}
	if len(st.Interfaces) > 0 {
		l += "; interfaces " + strings.Join(st.Interfaces, ", ")
	}
	out = append(out, l)
	pruned := st.PrunedTime + st.PrunedIface + st.PrunedStats + st.PrunedDict
	l = fmt.Sprintf("blocks: %s, %d read, %d answered from statistics, %d pruned", plural(st.BlocksTotal, "candidate"), st.BlocksRead, st.BlocksFromStats, pruned)
	if pruned > 0 {
		var why []string
		for _, p := range []struct {
			n    int
			what string
		}{{st.PrunedTime, "time"}, {st.PrunedIface, "interface"}, {st.PrunedStats, "statistics"}, {st.PrunedDict, "dictionary"}} {
			if p.n > 0 {
				why = append(why, fmt.Sprintf("%s %d", p.what, p.n))
			}
		}
		l += " (" + strings.Join(why, ", ") + ")"
	}
	if st.PastLimit > 0 {
		l += fmt.Sprintf(", %d not needed (earlier blocks held the LIMIT)", st.PastLimit)
	}
	out = append(out, l)
	scanned := units.Count(uint64(max(st.RowsScanned, 0))) + " rows"
	if st.RowsScanned == 1 {
		scanned = "1 row"
	}
	out = append(out, fmt.Sprintf("read %s in %s (%s scanned); took %s",
		units.Bytes(uint64(max(st.BytesRead, 0))), plural(st.ChunksRead, "chunk"), scanned, formatTook(took)))
	if st.BlocksDamaged > 0 || len(st.Warnings) > 0 {
		out = append(out, fmt.Sprintf("warning: %s damaged and skipped (details on stderr)", plural(max(st.BlocksDamaged, len(st.Warnings)), "block")))
	}
	return out
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// formatTook writes a duration in milliseconds, with one decimal below 10 s.
func formatTook(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10_000 {
		return strconv.FormatFloat(ms, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}
