package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/flowsql/flowsql/internal/units"
	"strings"
	"time"

	"github.com/flowsql/flowsql/bench/gen"
	"github.com/flowsql/flowsql/columnar"
	"github.com/spf13/cobra"
)

// maxGenHours bounds --hours well within time.Duration.
const maxGenHours = 1_000_000

// genFlags are the options of `flowsql gen`.
type genFlags struct {
	hours    float64
	ifaces   []string
	flows    int
	seed     uint64
	start    string
	interval time.Duration
	nosync   bool
}

func (a *app) genCommand() *cobra.Command {
	var f genFlags
	cmd := &cobra.Command{
		Use:   "gen [flags]",
		Short: "Fill the store with a realistic synthetic flow dataset",
		Long: `Writes a synthetic dataset through the store, one block per interface per
interval: heavy-tailed clients, servers, ports and counters, 70% IPv4 and
30% IPv6, a daily activity curve and long-lived flows (see the package doc
of bench/gen). The same flags give the same data.

The time range must be free in the store: blocks are never replaced.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.gen(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&f.hours, "hours", 24, "hours of data")
	fl.StringSliceVar(&f.ifaces, "ifaces", []string{"eth0"}, "interface names, comma-separated")
	fl.IntVar(&f.flows, "flows", gen.DefaultFlowsPerBlock, "mean flows per block (scaled by the time of day)")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed")
	fl.StringVar(&f.start, "start", gen.DefaultStart.Format(time.RFC3339), "first block, RFC 3339 (its offset sets the local time of day)")
	fl.DurationVar(&f.interval, "interval", gen.DefaultInterval, "block length, whole seconds")
	fl.BoolVar(&f.nosync, "nosync", false, "skip fsync (faster; a machine crash may lose the data)")
	return cmd
}

// genConfig turns the flags into a generator configuration.
func genConfig(f genFlags) (gen.Config, error) {
	start, err := time.Parse(time.RFC3339, f.start)
	if err != nil {
		return gen.Config{}, fmt.Errorf("--start: want a time like 2025-03-10T00:00:00Z: %w", err)
	}
	if !(f.hours > 0 && f.hours <= maxGenHours) {
		return gen.Config{}, fmt.Errorf("--hours %v: want more than 0 and at most %d", f.hours, maxGenHours)
	}
	if f.flows < 1 {
		return gen.Config{}, fmt.Errorf("--flows %d: want 1 or more", f.flows)
	}
	if f.interval <= 0 {
		return gen.Config{}, fmt.Errorf("--interval %v: want a positive duration such as 5m", f.interval)
	}
	if len(f.ifaces) == 0 {
		return gen.Config{}, errors.New("--ifaces: want at least one interface name")
	}
	return gen.Config{
		Seed:          f.seed,
		Start:         start,
		Duration:      time.Duration(f.hours * float64(time.Hour)),
		Interval:      f.interval,
		Ifaces:        f.ifaces,
		FlowsPerBlock: f.flows,
	}, nil
}

func (a *app) gen(ctx context.Context, f genFlags) error {
	cfg, err := genConfig(f)
	if err != nil {
		return err
	}
	g, err := gen.New(cfg) // validate before touching the store
	if err != nil {
		return err
	}
	cfg = g.Config()
	db, err := columnar.Open(ctx, a.db, &columnar.Options{NoSync: f.nosync})
	if err != nil {
		return err
	}
	defer db.Close()
	a.reportRecovery(db)

	var progress func(gen.Report, int)
	began := time.Now()
	if isTerminal(a.stderr) {
		progress = func(r gen.Report, total int) {
			fmt.Fprintf(a.stderr, "\r%d/%d blocks, %s rows (%s rows/s)   ",
				r.Blocks, total, units.Count(uint64(r.Rows)), units.Count(uint64(float64(r.Rows)/time.Since(began).Seconds())))
		}
	}
	rep, err := gen.Generate(ctx, db, cfg, progress)
	took := time.Since(began)
	if progress != nil {
		fmt.Fprint(a.stderr, "\r\033[K")
	}
	if err != nil {
		if errors.Is(err, columnar.ErrBlockExists) || errors.Is(err, columnar.ErrBlockOverlap) {
			err = fmt.Errorf("%w (the store already holds this time range: choose another --start or --db)", err)
		}
		return fmt.Errorf("%w (%d blocks were written before)", err, rep.Blocks)
	}
	end := cfg.Start.Add(time.Duration(g.Total()/len(cfg.Ifaces)) * cfg.Interval)
	metas, err := db.Blocks(ctx, columnar.Selector{Ifaces: cfg.Ifaces, From: cfg.Start.Unix(), To: end.Unix()})
	if err != nil {
		return err
	}
	var disk int64
	for i := range metas {
		disk += metas[i].DiskBytes()
	}
	perRow := 0.0
	if rep.Rows > 0 {
		perRow = float64(disk) / float64(rep.Rows)
	}
	fmt.Fprintf(a.stdout, "wrote %d blocks (%s, %s .. %s UTC): %d rows, %d packets, %s of traffic\n",
		rep.Blocks, strings.Join(cfg.Ifaces, ", "), timeUTC(cfg.Start.Unix()), timeUTC(end.Unix()), rep.Rows, rep.Packets, units.Bytes(rep.Bytes))
	fmt.Fprintf(a.stdout, "on disk: %s of column chunks, %.2f bytes per row\n", units.Bytes(uint64(disk)), perRow)
	fmt.Fprintf(a.stdout, "took %.2fs (%s rows/s)\n", took.Seconds(), units.Count(uint64(float64(rep.Rows)/max(took.Seconds(), 1e-9))))
	return nil
}
