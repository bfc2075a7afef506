// Command flowsql captures, stores and queries network flow metadata.
//
//	flowsql ingest [--iface NAME] [--local CIDR,...] FILE...   capture files into the store
//	flowsql list                                              what the store holds, per interface
//	flowsql check                                             verify the store
//	flowsql demo                                              ingest the embedded sample and show it
//	flowsql query "SELECT ..."                                run a query (also: flowsql "SELECT ...")
//	flowsql export [--where COND | --query SQL] OUT            flows or a result as Parquet, Arrow or CSV
//
// The store is the folder named by --db, else $FLOWSQL_DB, else ./flowdata.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// defaultDB is the store used when neither --db nor $FLOWSQL_DB is set.
const defaultDB = "./flowdata"

// errReported marks a failure whose details were already printed; main only
// sets the exit status.
var errReported = errors.New("failed")

// app holds what every command shares: the streams and the global flags.
type app struct {
	stdout, stderr io.Writer
	db             string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if isQueryRun(os.Args[1:]) {
		startQueryHeap(queryStartHeap)
	}
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errReported) {
			fmt.Fprintf(stderr, "flowsql: %v\n", err)
		}
		return 1
	}
	return 0
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "flowsql",
		Short:         "Who talked to whom, on which port, how much, and when",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	dbDefault := os.Getenv("FLOWSQL_DB")
	if dbDefault == "" {
		dbDefault = defaultDB
	}
	root.PersistentFlags().StringVar(&a.db, "db", dbDefault, "store folder (default $FLOWSQL_DB, else ./flowdata)")
	root.AddCommand(a.ingestCommand(), a.listCommand(), a.checkCommand(), a.demoCommand(), a.genCommand(), a.probeCommand(), a.statusCommand())
	root.AddCommand(a.queryCommand(), a.exportCommand())
	a.addQueryShorthand(root)
	return root
}
