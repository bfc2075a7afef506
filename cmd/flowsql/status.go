package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/flowsql/flowsql/internal/units"
	"os"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) statusCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the capture counters of the probe running on the store",
		Long: `Reads the status file the probe rewrites every second in the store folder
(probe.status.json) and prints, per interface, what the kernel passed and
dropped, what was processed, the flows in the open block and the blocks
written. Exits 1 when no probe runs on the store: it stopped, its process is
gone, or its status is more than 10 s old.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.status(format, time.Now())
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

// probeState says whether the probe of a status file runs.
type probeState struct {
	running bool
	why     string // when not running
}

// stateOf judges a status file read at now.
func stateOf(st *probeStatusFile, now time.Time) probeState {
	age := now.Sub(st.Updated).Round(time.Second)
	switch {
	case st.Stopped:
		return probeState{why: fmt.Sprintf("probe stopped at %s (clean exit)", st.Updated.Local().Format(time.DateTime))}
	case !processAlive(st.PID):
		return probeState{why: fmt.Sprintf("probe not running: process %d is gone (killed or crashed); status is %v old", st.PID, age)}
	case age > statusStaleAfter:
		return probeState{why: fmt.Sprintf("probe not responding: process %d is alive but its status is %v old", st.PID, age)}
	}
	return probeState{running: true}
}

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0)) // EPERM: alive, someone else's
	return err == nil || !errors.Is(err, os.ErrProcessDone)
}

func (a *app) status(format string, now time.Time) error {
	if format != "table" && format != "json" {
		return fmt.Errorf("status: unknown --format %q (want table or json)", format)
	}
	st, err := readStatusFile(a.db)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	state := stateOf(st, now)
	if format == "json" {
		out := struct {
			*probeStatusFile
			Running bool   `json:"running"`
			Why     string `json:"not_running,omitempty"`
		}{st, state.running, state.why}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		a.printStatus(st, state, now)
	}
	if !state.running {
		if format == "json" {
			return errReported
		}
		fmt.Fprintf(a.stderr, "flowsql: %s\n", state.why)
		return errReported
	}
	return nil
}

// printStatus prints the status as a table.
func (a *app) printStatus(st *probeStatusFile, state probeState, now time.Time) {
	if state.running {
		fmt.Fprintf(a.stdout, "probe pid %d, up %v, interval %s, status %v old\n", st.PID,
			now.Sub(st.Started).Round(time.Second), st.Interval, now.Sub(st.Updated).Round(time.Second))
	} else {
		fmt.Fprintf(a.stdout, "%s; last counters:\n", state.why)
	}
	if len(st.Ifaces) == 0 {
		fmt.Fprintln(a.stdout, "no interface captured")
		return
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "IFACE\tSTATE\tKERNEL PKTS\tDROPPED\tFREEZES\tPROCESSED\tBYTES\tPARSE ERR\tNON-IP\tOPEN FLOWS\tBLOCKS\tLAST WRITE\t")
	for _, s := range st.Ifaces {
		state := "capturing"
		if !s.Running {
			state = "stopped"
		}
		last := "never"
		if s.LastWrite != nil {
			last = now.Sub(*s.LastWrite).Round(time.Second).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t\n", s.Iface, state,
			s.KernelPackets, s.KernelDrops, s.Freezes, s.Packets, units.Bytes(s.Bytes),
			s.ParseErrors, s.NonIP, s.OpenFlows, s.Blocks, last)
	}
	tw.Flush()
	for _, s := range st.Ifaces {
		if s.WriteErrors > 0 || s.DroppedBlocks > 0 || s.RingErrors > 0 || s.Overflow > 0 {
			fmt.Fprintf(a.stdout, "%s: %d write errors, %d blocks dropped, %d ring errors, %d packets over the flow limit; last error: %s\n",
				s.Iface, s.WriteErrors, s.DroppedBlocks, s.RingErrors, s.Overflow, s.LastError)
		}
	}
}
