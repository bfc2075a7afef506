package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/planner"
	"github.com/flowsql/flowsql/sql"
	"github.com/spf13/cobra"
)

// queryFlags are the options of `flowsql query` and of the shorthand
// `flowsql "SELECT ..."`.
type queryFlags struct {
	format   string
	explain  bool
	budget   string
	timeout  time.Duration
	stats    bool
	hostname string
}

const queryLong = `Runs one query of flowsql's SQL dialect on the store and prints the result.
The shorthand flowsql "SELECT ..." (or "EXPLAIN SELECT ...") does the same.

  flowsql query "SELECT dip, sum(bytes) AS b WHERE sip = 10.1.2.3 GROUP BY dip ORDER BY b DESC LIMIT 10"
  flowsql "SELECT bucket(time, 1h) AS t, sum(bytes) FROM eth0 WHERE time >= -24h GROUP BY t ORDER BY t"

Formats: table (aligned, bytes in KiB/MiB/GiB, packets in k/M, protocol
names, UTC minutes, and a footer with the time span, interfaces, groups,
blocks read and pruned, bytes read and time taken); csv (a header of the
item names, raw numbers, protocol numbers, RFC 3339 UTC times); json (an
array of objects, one per line, keys in select order, raw numbers,
protocol numbers, RFC 3339 UTC times, null for no value); arrow (an Arrow
IPC stream on stdout).

A damaged block is skipped with a warning on stderr; the query still
answers from the other blocks and exits 0.`

func (a *app) queryCommand() *cobra.Command {
	var f queryFlags
	cmd := &cobra.Command{
		Use:   `query [flags] "SQL"`,
		Short: "Run a SQL query over the stored flows",
		Long:  queryLong,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New(`query: give the SQL, e.g. flowsql query "SELECT sip, sum(bytes) GROUP BY sip"`)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.query(cmd.Context(), strings.Join(args, " "), f)
		},
	}
	addQueryFlags(cmd, &f)
	return cmd
}

// addQueryFlags declares the query flags on cmd (the query command and the
// root command, for the shorthand).
func addQueryFlags(cmd *cobra.Command, f *queryFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "table", "output format: table, csv, json or arrow")
	fl.BoolVar(&f.explain, "explain", false, "print the plan (blocks and columns it would read, as text) instead of running it")
	fl.StringVar(&f.budget, "budget", "1GiB", "memory budget of the query (e.g. 512MiB, 4GiB; unlimited for none)")
	fl.DurationVar(&f.timeout, "timeout", 0, "stop the query after this long (e.g. 30s; 0 for no limit)")
	fl.BoolVar(&f.stats, "stats", false, "print the query's statistics as one JSON line on stderr")
	fl.StringVar(&f.hostname, "hostname", "", "value of the host column (default: this machine's host name)")
}

// isQueryText reports whether a command line's first argument is a query
// for the shorthand: its first word is SELECT or EXPLAIN, in any case.
func isQueryText(arg string) bool {
	s := strings.TrimSpace(arg)
	end := strings.IndexFunc(s, func(r rune) bool {
		return !('a' <= r|0x20 && r|0x20 <= 'z' || '0' <= r && r <= '9' || r == '_')
	})
	if end < 0 {
		end = len(s)
	}
	w := s[:end]
	return strings.EqualFold(w, "select") || strings.EqualFold(w, "explain")
}

// plannerOptions turns the flags shared by query and export into planner
// options.
func plannerOptions(budget, hostname string) (*planner.Options, error) {
	o := &planner.Options{Host: hostname}
	switch strings.ToLower(strings.TrimSpace(budget)) {
	case "", "default":
	case "unlimited", "none":
		o.MemoryBudget = -1
	default:
		n, err := columnar.ParseSize(budget)
		if err != nil {
			return nil, fmt.Errorf("--budget: %w", err)
		}
		if n <= 0 {
			return nil, fmt.Errorf("--budget %q: want a positive size such as 1GiB, or unlimited", budget)
		}
		o.MemoryBudget = n
	}
	return o, nil
}

func (a *app) query(ctx context.Context, text string, f queryFlags) error {
	format, err := parseFormat(f.format)
	if err != nil {
		return err
	}
	opts, err := plannerOptions(f.budget, f.hostname)
	if err != nil {
		return err
	}
	if f.timeout < 0 {
		return fmt.Errorf("--timeout %v: want a positive duration or 0", f.timeout)
	}
	stmt, err := sql.Parse(text)
	if err != nil {
		return a.queryError(text, err)
	}
	if f.explain {
		stmt.Explain = true
	}
	if format == formatArrow && !stmt.Explain && isTTY(a.stdout) {
		return errors.New("--format arrow writes binary Arrow IPC: redirect stdout to a file or a pipe")
	}
	db, err := columnar.Open(ctx, a.db, &columnar.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	return a.runQuery(ctx, db, text, stmt, format, opts, f)
}

// runQuery plans and runs a parsed query on an open store and writes the
// result (or, for EXPLAIN, the plan) to stdout, warnings to stderr.
func (a *app) runQuery(ctx context.Context, db *columnar.DB, text string, stmt *sql.Select,
	format outputFormat, opts *planner.Options, f queryFlags) error {
	plan, err := planner.Prepare(stmt, opts)
	if err != nil {
		return a.queryError(text, err)
	}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, f.timeout, fmt.Errorf("query timed out after %v (--timeout)", f.timeout))
		defer cancel()
	}
	if stmt.Explain {
		s, err := plan.Explain(ctx, db)
		if err != nil {
			return fmt.Errorf("explain: %w", queryExecError(ctx, err))
		}
		_, err = fmt.Fprint(a.stdout, s)
		return err
	}
	began := time.Now()
	res, err := plan.Execute(ctx, db)
	took := time.Since(began)
	if err != nil {
		return queryExecError(ctx, err)
	}
	w := newResultWriter(a.stdout, stmt, format)
	if err := w.write(res, took); err != nil {
		return fmt.Errorf("writing the result: %w", err)
	}
	a.printWarnings(res.Stats.Warnings)
	if f.stats {
		a.printStats(res, took, time.Since(began)-took)
	}
	return nil
}

// queryExecError explains a failed execution: a timeout or a memory budget
// gets a hint at the flag that controls it.
func queryExecError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.DeadlineExceeded) {
			return cause
		}
		return fmt.Errorf("query: %w", err)
	case errors.Is(err, planner.ErrMemoryBudget):
		return fmt.Errorf("query: %w (raise --budget to allow more)", err)
	}
	return fmt.Errorf("query: %w", err)
}

// queryError prints a query's error. A *sql.Error (parse or plan) is shown
// with the line of the query it points at and a caret under the column;
// the error is then reported.
func (a *app) queryError(text string, err error) error {
	var se *sql.Error
	if !errors.As(err, &se) {
		return err
	}
	fmt.Fprintf(a.stderr, "flowsql: %v\n", se)
	if line, caret, ok := caretLines(text, se.Pos); ok {
		fmt.Fprintf(a.stderr, "  %s\n  %s^\n", line, caret)
	}
	return errReported
}

// caretLines returns the query line that pos is on and the padding that
// puts a caret under pos's column: tabs stay tabs so the caret lines up in
// a terminal.
func caretLines(text string, pos sql.Pos) (line, pad string, ok bool) {
	if !pos.IsValid() {
		return "", "", false
	}
	lines := strings.Split(text, "\n")
	if pos.Line > len(lines) {
		return "", "", false
	}
	line = strings.TrimRight(lines[pos.Line-1], "\r")
	var b strings.Builder
	col := 1
	for _, r := range line {
		if col >= pos.Col {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		col++
	}
	// A position past the end (end of query, a cut \r) points just after
	// the last character.
	for n := utf8.RuneCountInString(line); col < pos.Col && col <= n; col++ {
		b.WriteByte(' ')
	}
	return line, b.String(), true
}

// addQueryShorthand makes the root command run a query given as its first
// argument (flowsql "SELECT ..." or flowsql "EXPLAIN SELECT ..."), with the
// query flags. Without arguments it prints the help; any other first
// argument is an unknown command.
func (a *app) addQueryShorthand(root *cobra.Command) {
	var f queryFlags
	addQueryFlags(root, &f)
	root.Use = `flowsql ["SELECT ..."]`
	root.Long = root.Short + `.

A first argument starting with SELECT or EXPLAIN (any case) runs it as a
query, like flowsql query; the flags below apply to it.`
	root.Args = cobra.ArbitraryArgs
	if root.SuggestionsMinimumDistance <= 0 {
		root.SuggestionsMinimumDistance = 2
	}
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		if !isQueryText(args[0]) {
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %q?", s[0])
			}
			return errors.New(msg + " (a query starts with SELECT or EXPLAIN; see flowsql --help)")
		}
		return a.query(cmd.Context(), strings.Join(args, " "), f)
	}
}
