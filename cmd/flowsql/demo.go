package main

import (
	"context"
	_ "embed"
	"fmt"
	"github.com/flowsql/flowsql/internal/units"
	"os"
	"path/filepath"
	"time"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/ingest"
	"github.com/flowsql/flowsql/planner"
	"github.com/flowsql/flowsql/sql"
	"github.com/spf13/cobra"
)

// sampleCapture is real traffic recorded between two network namespaces by
// scripts/make-sample-capture: HTTP over IPv4 and IPv6, a UDP service,
// pings and refused TCP connections, seen from the client host's eth0.
//
//go:embed sample.pcap.gz
var sampleCapture []byte

// demoIface names the sample's interface in the store.
const demoIface = "demo-eth0"

func (a *app) demoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Ingest the embedded sample capture into the store and show what it holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.demo(cmd.Context())
		},
	}
}

func (a *app) demo(ctx context.Context) error {
	db, err := columnar.Open(ctx, a.db, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	blocks, err := db.Blocks(ctx, columnar.Selector{Ifaces: []string{demoIface}})
	if err != nil {
		return err
	}
	if len(blocks) == 0 {
		fmt.Fprintf(a.stdout, "ingesting the embedded sample capture (%s gzipped) into %s as interface %s\n",
			units.Bytes(uint64(len(sampleCapture))), a.db, demoIface)
		if err := ingestSample(ctx, db, a); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "the sample is already in %s as interface %s\n", a.db, demoIface)
	}
	fmt.Fprintf(a.stdout, "\n$ flowsql list --db %s\n", a.db)
	sums, err := db.Summary(ctx)
	if err != nil {
		return err
	}
	writeSummaryTable(a, sums)

	fmt.Fprintf(a.stdout, "\nwho talked to whom on %s, on which port, how much (top conversations by bytes; out = sent by the capturing host):\n", demoIface)
	fmt.Fprintf(a.stdout, "\n$ flowsql --db %s query \"%s\"\n", a.db, demoQuery)
	stmt, err := sql.Parse(demoQuery)
	if err != nil {
		return err
	}
	opts := &planner.Options{}
	return a.runQuery(ctx, db, demoQuery, stmt, formatTable, opts, queryFlags{})
}

// demoQuery is the demo's question, asked through the planner.
const demoQuery = "SELECT sip, dip, dport, proto, sum(bytes_out) AS sent, sum(bytes_in) AS received, " +
	"sum(packets_out) AS pkts_sent, sum(packets_in) AS pkts_received FROM " + demoIface +
	" GROUP BY sip, dip, dport, proto ORDER BY sum(bytes) DESC LIMIT 10"

// ingestSample writes the embedded capture to a temporary file and ingests
// it like `flowsql ingest --iface demo-eth0 FILE` would.
func ingestSample(ctx context.Context, db *columnar.DB, a *app) error {
	dir, err := os.MkdirTemp("", "flowsql-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sample.pcap.gz")
	if err := os.WriteFile(path, sampleCapture, 0o600); err != nil {
		return err
	}
	chain := capture.NewChain([]capture.ChainItem{{Path: path, Name: demoIface}})
	defer chain.Close()
	start := time.Now()
	stats, err := ingest.IngestSource(ctx, chain, db, ingest.Options{Iface: demoIface})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if errs := chain.Errors(); len(errs) > 0 {
		return fmt.Errorf("demo: reading the sample: %w", errs[0])
	}
	a.printIngestStats(stats, time.Since(start))
	return nil
}
