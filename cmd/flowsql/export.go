package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/flowsql/flowsql/internal/units"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/planner"
	"github.com/flowsql/flowsql/sql"
	"github.com/spf13/cobra"
)

// exportWindowRows bounds the stored rows one planner run of an export
// covers: a listing is exported in runs over consecutive blocks of one
// interface, so its memory stays bounded whatever the store holds.
const exportWindowRows = 1 << 16

// exportFlags are the options of `flowsql export`.
type exportFlags struct {
	format      string
	where       string
	query       string
	compression string
	budget      string
	hostname    string
	timeout     time.Duration
}

const exportLong = `Writes the stored flows (every column of flows: time, iface, host, sip,
dip, dport, proto, bytes_in, bytes_out, packets_in, packets_out), those
matching --where, or the result of any --query, as one file that DuckDB,
Spark, ClickHouse, Polars and pandas read directly. OUT "-" is stdout.

  flowsql export flows.parquet
  flowsql export --where "dip IN 10.0.0.0/8 AND time >= -24h" lan.parquet
  flowsql export --query "SELECT sip, sum(bytes) AS b GROUP BY sip" talkers.csv

Formats (default from OUT's extension: .parquet, .arrow/.feather/.ipc,
.csv):
  parquet  zstd (or --compression snappy|none); addresses as strings,
           time as TIMESTAMP(MILLIS, UTC), ports uint16, protocols uint8
           (numbers), counters uint64
  arrow    Arrow IPC file (Feather v2), same types with time as
           timestamp[s, UTC]; uncompressed (zero-copy readable) unless
           --compression zstd|lz4
  csv      the query command's CSV: header, raw numbers, RFC 3339 UTC times

Addresses are strings because no file format has an IP type every reader
understands: 16-byte binary shows as opaque bytes in all of them, while
'10.1.2.3' and '2001:db8::1' read as text everywhere and cast to INET,
IPv4/IPv6 or ipaddress objects where the tool has them.

Listings without ORDER BY and LIMIT stream: they run in pieces of at most
65,536 stored rows (consecutive blocks of one interface, in storage order),
so memory stays bounded. Other queries are answered whole, within --budget.
The file is written under a temporary name and renamed when complete.`

func (a *app) exportCommand() *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export [flags] OUT",
		Short: "Write stored flows or a query result as Parquet, Arrow or CSV",
		Long:  exportLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.export(cmd.Context(), f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "", "parquet, arrow or csv (default: from OUT's extension)")
	fl.StringVar(&f.where, "where", "", "export only the flows matching this condition (the WHERE of SELECT *)")
	fl.StringVar(&f.query, "query", "", "export the result of this query instead of the flows")
	fl.StringVar(&f.compression, "compression", "", "parquet: zstd (default), snappy or none; arrow: none (default), zstd or lz4")
	fl.StringVar(&f.budget, "budget", "1GiB", "memory budget of each planner run (e.g. 4GiB; unlimited for none)")
	fl.StringVar(&f.hostname, "hostname", "", "value of the host column (default: this machine's host name)")
	fl.DurationVar(&f.timeout, "timeout", 0, "stop the export after this long (0 for no limit)")
	return cmd
}

// exportFormat picks the format from the flag, else from the extension.
func exportFormat(flag, out string) (string, error) {
	if flag != "" {
		switch flag {
		case "parquet", "arrow", "csv":
			return flag, nil
		}
		return "", fmt.Errorf("unknown --format %q (want parquet, arrow or csv)", flag)
	}
	switch strings.ToLower(filepath.Ext(out)) {
	case ".parquet", ".pq":
		return "parquet", nil
	case ".arrow", ".feather", ".ipc":
		return "arrow", nil
	case ".csv":
		return "csv", nil
	}
	return "", fmt.Errorf("cannot tell the format of %q from its name: give --format parquet, arrow or csv", out)
}

// exportSQL returns the query text an export runs.
func exportSQL(f exportFlags) (string, error) {
	if f.query != "" {
		if f.where != "" {
			return "", errors.New("--where goes with the default SELECT *: put the condition in --query instead")
		}
		return f.query, nil
	}
	if strings.TrimSpace(f.where) == "" {
		return "SELECT *", nil
	}
	return "SELECT * WHERE " + f.where, nil
}

// exportReport sums what an export did.
type exportReport struct {
	rows, runs, blocks int
	bytesRead          int64
	warnings           []planner.Warning
}

func (a *app) export(ctx context.Context, f exportFlags, out string) error {
	began := time.Now()
	format, err := exportFormat(f.format, out)
	if err != nil {
		return err
	}
	text, err := exportSQL(f)
	if err != nil {
		return err
	}
	opts, err := plannerOptions(f.budget, f.hostname)
	if err != nil {
		return err
	}
	now := time.Now() // one "now" for every run's relative times
	opts.Now = func() time.Time { return now }
	stmt, err := sql.Parse(text)
	if err != nil {
		return a.queryError(text, err)
	}
	if stmt.Explain {
		return errors.New("export: EXPLAIN has no rows to export; use flowsql query --explain")
	}
	plan, err := planner.Prepare(stmt, opts)
	if err != nil {
		return a.queryError(text, err)
	}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, f.timeout, fmt.Errorf("export timed out after %v (--timeout)", f.timeout))
		defer cancel()
	}
	db, err := columnar.Open(ctx, a.db, &columnar.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()

	dst, err := createOutput(out, a)
	if err != nil {
		return err
	}
	defer dst.abort()
	sink, err := newExportSink(format, f.compression, dst.w)
	if err != nil {
		return err
	}
	var rep exportReport
	if streamable(stmt) {
		err = a.exportWindows(ctx, db, stmt, opts, sink, &rep)
	} else {
		err = exportResult(ctx, db, plan, sink, &rep)
	}
	if err == nil {
		err = sink.Close()
	}
	if err == nil {
		err = dst.commit()
	}
	if err != nil {
		return fmt.Errorf("export to %s: %w", out, err)
	}
	a.printWarnings(rep.warnings)
	size := ""
	if dst.size >= 0 {
		size = ", " + units.Bytes(uint64(dst.size))
	}
	fmt.Fprintf(a.stderr, "exported %d rows to %s (%s%s) from %d blocks in %s\n",
		rep.rows, out, format, size, rep.blocks, formatTook(time.Since(began)))
	return nil
}

// streamable reports whether a query is a listing in storage order, which
// an export can run in pieces.
func streamable(stmt *sql.Select) bool {
	return !isAggregate(stmt) && len(stmt.OrderBy) == 0 && stmt.Limit == nil
}

// exportResult runs the whole query once and writes its result.
func exportResult(ctx context.Context, db *columnar.DB, plan *planner.Plan, sink exportSink, rep *exportReport) error {
	res, err := plan.Execute(ctx, db)
	if err != nil {
		return queryExecError(ctx, err)
	}
	rep.add(res)
	if err := sink.Write(res); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	return nil
}

func (r *exportReport) add(res *planner.Result) {
	r.runs++
	r.rows += res.NumRows()
	r.blocks += res.Stats.BlocksRead + res.Stats.BlocksFromStats
	r.bytesRead += res.Stats.BytesRead
	r.warnings = append(r.warnings, res.Stats.Warnings...)
}

// exportWindows runs a listing over consecutive runs of blocks of one
// interface, each holding at most exportWindowRows rows (or one block),
// and writes each run's rows: the output is in storage order, as one run
// would give, with bounded memory.
func (a *app) exportWindows(ctx context.Context, db *columnar.DB, stmt *sql.Select, opts *planner.Options,
	sink exportSink, rep *exportReport) error {
	var ifaces []string
	for _, f := range stmt.From {
		ifaces = append(ifaces, f.Name)
	}
	metas, err := db.Blocks(ctx, columnar.Selector{Ifaces: ifaces})
	if err != nil {
		return fmt.Errorf("listing blocks: %w", err)
	}
	wins := splitWindows(metas, exportWindowRows)
	if len(wins) == 0 { // nothing stored: one run gives the empty result and its schema
		plan, err := planner.Prepare(stmt, opts)
		if err != nil {
			return err
		}
		return exportResult(ctx, db, plan, sink, rep)
	}
	for _, w := range wins {
		plan, err := planner.Prepare(windowStmt(stmt, w), opts)
		if err != nil {
			return fmt.Errorf("planning blocks %s %s..%s: %w", w.iface, timeUTC(w.from), timeUTC(w.to), err)
		}
		if err := exportResult(ctx, db, plan, sink, rep); err != nil {
			return err
		}
	}
	return nil
}

// window is a run of consecutive blocks of one interface: block starts in
// [from, to].
type window struct {
	iface    string
	from, to int64
}

// splitWindows cuts blocks (sorted by interface, then start) into windows
// of at most maxRows rows, at least one block each.
func splitWindows(metas []columnar.BlockMeta, maxRows int) []window {
	var out []window
	rows := 0
	for i := range metas {
		m := &metas[i]
		if n := len(out); n > 0 && out[n-1].iface == m.Iface && m.Start > out[n-1].to && rows+m.Rows <= maxRows {
			out[n-1].to = m.Start
			rows += m.Rows
			continue
		}
		out = append(out, window{iface: m.Iface, from: m.Start, to: m.Start})
		rows = m.Rows
	}
	return out
}

// windowStmt returns stmt restricted to a window: FROM its interface, and
// its condition AND time >= from AND time <= to.
func windowStmt(stmt *sql.Select, w window) *sql.Select {
	s := *stmt
	s.From = []*sql.Iface{{Name: w.iface}}
	timeCmp := func(op sql.CmpOp, t int64) sql.Expr {
		return &sql.BinaryExpr{Op: op, Left: &sql.ColumnRef{Column: sql.ColTime}, Right: &sql.AbsTimeLit{Time: time.Unix(t, 0).UTC()}}
	}
	terms := []sql.Expr{timeCmp(sql.OpGe, w.from), timeCmp(sql.OpLe, w.to)}
	switch c := stmt.Where.(type) {
	case nil:
	case *sql.AndExpr:
		terms = append(append([]sql.Expr(nil), c.Terms...), terms...)
	default:
		terms = append([]sql.Expr{c}, terms...)
	}
	s.Where = &sql.AndExpr{Terms: terms}
	return &s
}
