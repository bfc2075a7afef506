package main

import (
	"context"
	"fmt"
	"github.com/flowsql/flowsql/internal/units"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/ingest"
	"github.com/spf13/cobra"
)

// ingestFlags are the options of `flowsql ingest`.
type ingestFlags struct {
	iface    string
	local    string
	interval time.Duration
	retain   string
	maxDisk  string
}

func (a *app) ingestCommand() *cobra.Command {
	var f ingestFlags
	cmd := &cobra.Command{
		Use:   "ingest [flags] FILE...",
		Short: "Store the flows of pcap / pcapng capture files (gzip too)",
		Long: `Reads capture files in the order given, as one stream per interface, and
stores their flows in five-minute blocks. The interface is named by --iface,
else by the pcapng interface name, else by the file's base name.

A damaged file keeps every good record before the damage; the error names
the record and byte offset, the other files are still ingested, and the
command exits 1.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.ingest(cmd.Context(), f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.iface, "iface", "", "interface name for every packet (default: pcapng name, else file base name)")
	fl.StringVar(&f.local, "local", "", "this host's networks, CIDR,...: decides in/out where the capture does not")
	fl.DurationVar(&f.interval, "interval", ingest.DefaultInterval, "block length (rotation interval), whole seconds")
	fl.StringVar(&f.retain, "retain", "", "after ingesting, drop days older than this (e.g. 30d)")
	fl.StringVar(&f.maxDisk, "max-disk", "", "after ingesting, drop the oldest days while data exceeds this (e.g. 10GiB)")
	return cmd
}

func (a *app) ingest(ctx context.Context, f ingestFlags, files []string) error {
	opts := ingest.Options{Iface: f.iface, Interval: f.interval}
	if f.local != "" {
		nets, err := ingest.ParseLocalNets(f.local)
		if err != nil {
			return fmt.Errorf("--local: %w", err)
		}
		opts.Local = nets
	}
	policy, err := retentionPolicy(f.retain, f.maxDisk)
	if err != nil {
		return err
	}
	items := make([]capture.ChainItem, len(files))
	for i, path := range files {
		items[i] = capture.ChainItem{Path: path, DefaultName: baseName(path), Name: f.iface}
	}
	db, err := columnar.Open(ctx, a.db, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	a.reportRecovery(db)

	if isTerminal(a.stderr) {
		start := time.Now()
		opts.Progress = func(s ingest.Stats) {
			rate := float64(s.Packets) / time.Since(start).Seconds()
			fmt.Fprintf(a.stderr, "\r%s packets, %s, %s flows in %d blocks (%s packets/s)   ",
				units.Count(s.Packets), units.Bytes(s.Bytes), units.Count(s.Flows), s.Blocks, units.Count(uint64(rate)))
		}
	}
	chain := capture.NewChain(items)
	defer chain.Close()
	start := time.Now()
	stats, err := ingest.IngestSource(ctx, chain, db, opts)
	if opts.Progress != nil {
		fmt.Fprint(a.stderr, "\r\033[K")
	}
	a.printIngestStats(stats, time.Since(start))
	failed := false
	for _, ferr := range chain.Errors() {
		fmt.Fprintf(a.stderr, "flowsql: ingest: %v\n", ferr)
		failed = true
	}
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if policy != nil {
		rep, err := db.Retain(ctx, *policy)
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		if len(rep.Days) > 0 {
			fmt.Fprintf(a.stdout, "retention: dropped %d days (%d blocks, %s); %s left\n",
				len(rep.Days), rep.Blocks, units.Bytes(uint64(rep.Bytes)), units.Bytes(uint64(rep.Remaining)))
		}
	}
	if failed {
		return errReported
	}
	return nil
}

func (a *app) printIngestStats(s ingest.Stats, took time.Duration) {
	for _, is := range s.Ifaces {
		fmt.Fprintf(a.stdout, "%s: %d packets, %s, %d flows in %d blocks; %d non-IP, %d parse errors\n",
			is.Name, is.Packets, units.Bytes(is.Bytes), is.Flows, is.Blocks, is.NonIP, is.ParseErrors)
		if is.Overflow > 0 {
			fmt.Fprintf(a.stdout, "%s: %d packets of new flows dropped: a block reached the flow limit\n", is.Name, is.Overflow)
		}
	}
	rate := 0.0
	if took > 0 {
		rate = float64(s.Packets) / took.Seconds()
	}
	fmt.Fprintf(a.stdout, "total: %d packets, %d flows in %d blocks, %.2fs (%s packets/s)\n",
		s.Packets, s.Flows, s.Blocks, took.Seconds(), units.Count(uint64(rate)))
}

// reportRecovery tells what opening the store repaired after a crash.
func (a *app) reportRecovery(db *columnar.DB) {
	r := db.Recovered()
	if len(r.TruncatedFiles) > 0 {
		fmt.Fprintf(a.stderr, "flowsql: recovered the store: cut %d uncommitted bytes from %s\n",
			r.TruncatedBytes, strings.Join(r.TruncatedFiles, ", "))
	}
	if len(r.RemovedFiles) > 0 {
		fmt.Fprintf(a.stderr, "flowsql: recovered the store: removed unindexed files %s\n", strings.Join(r.RemovedFiles, ", "))
	}
}

// retentionPolicy parses --retain and --max-disk; nil means no retention.
func retentionPolicy(retain, maxDisk string) (*columnar.RetentionPolicy, error) {
	if retain == "" && maxDisk == "" {
		return nil, nil
	}
	var p columnar.RetentionPolicy
	if retain != "" {
		age, err := columnar.ParseAge(retain)
		if err != nil {
			return nil, fmt.Errorf("--retain: %w", err)
		}
		p.MaxAge = age
	}
	if maxDisk != "" {
		n, err := columnar.ParseSize(maxDisk)
		if err != nil {
			return nil, fmt.Errorf("--max-disk: %w", err)
		}
		p.MaxBytes = n
	}
	return &p, nil
}

// baseName is a capture file's name without folder and capture extensions:
// /tmp/eth0.pcap.gz -> eth0.
func baseName(path string) string {
	name := filepath.Base(path)
	for {
		ext := strings.ToLower(filepath.Ext(name))
		switch ext {
		case ".gz", ".pcap", ".pcapng", ".cap", ".dmp":
			name = strings.TrimSuffix(name, name[len(name)-len(ext):])
			continue
		}
		break
	}
	if name == "" {
		name = "capture"
	}
	return name
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
