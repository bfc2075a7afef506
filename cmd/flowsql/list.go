package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/flowsql/flowsql/internal/units"
	"text/tabwriter"
	"time"

	"github.com/flowsql/flowsql/columnar"
	"github.com/spf13/cobra"
)

func (a *app) listCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show what the store holds, per interface",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.list(cmd.Context(), format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

// listRow is one interface in `flowsql list --format json`.
type listRow struct {
	Iface       string    `json:"iface"`
	First       time.Time `json:"first"`
	Last        time.Time `json:"last"`
	Blocks      int       `json:"blocks"`
	Flows       uint64    `json:"flows"`
	Packets     uint64    `json:"packets"`
	Bytes       uint64    `json:"bytes"`
	NonIP       uint64    `json:"non_ip"`
	ParseErrors uint64    `json:"parse_errors"`
	DiskBytes   int64     `json:"disk_bytes"`
}

func (a *app) list(ctx context.Context, format string) error {
	if format != "table" && format != "json" {
		return fmt.Errorf("list: unknown --format %q (want table or json)", format)
	}
	db, err := columnar.Open(ctx, a.db, &columnar.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	sums, err := db.Summary(ctx)
	if err != nil {
		return err
	}
	if format == "json" {
		rows := make([]listRow, 0, len(sums))
		for _, s := range sums {
			rows = append(rows, listRow{
				Iface: s.Iface, First: time.Unix(s.First, 0).UTC(), Last: time.Unix(s.Last, 0).UTC(),
				Blocks: s.Blocks, Flows: s.Flows, Packets: s.Packets, Bytes: s.Bytes,
				NonIP: s.NonIP, ParseErrors: s.ParseErrors, DiskBytes: s.DiskBytes,
			})
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	writeSummaryTable(a, sums)
	return nil
}

// writeSummaryTable prints the per-interface summary as an aligned table.
func writeSummaryTable(a *app, sums []columnar.IfaceSummary) {
	if len(sums) == 0 {
		fmt.Fprintf(a.stdout, "the store %s holds no flows yet\n", a.db)
		return
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "IFACE\tFIRST BLOCK (UTC)\tLAST BLOCK (UTC)\tBLOCKS\tFLOWS\tPACKETS\tBYTES\tNON-IP\tPARSE ERR\tON DISK\t")
	for _, s := range sums {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\t%d\t%s\t\n", s.Iface, timeUTC(s.First), timeUTC(s.Last),
			s.Blocks, units.Count(s.Flows), units.Count(s.Packets), units.Bytes(s.Bytes), s.NonIP, s.ParseErrors,
			units.Bytes(uint64(s.DiskBytes)))
	}
	tw.Flush()
}
