package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"time"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/ingest"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Timing of the probe's main loop.
const (
	// probeTick: idle blocks are written, counters refreshed and the status
	// file rewritten this often.
	probeTick = time.Second
	// ifacePollEvery: the interface list is read this often, to follow
	// interfaces that go down, come back or appear.
	ifacePollEvery = 2 * time.Second
)

// probeServer runs a server on the store while the probe captures (DESIGN
// §5: the probe also serves Arrow Flight). It must return once ctx is done.
type probeServer func(ctx context.Context, db *columnar.DB) error

// flightServer is the seam for the Flight server: nil until server/
// exists; then it returns a probeServer that serves db.
func (a *app) flightServer() probeServer { return nil }

// probeFlags are the command-line options of `flowsql probe`.
type probeFlags struct {
	config    string
	logFormat string
	cfg       probeConfig // flag values; only those given override the file
}

func (a *app) probeCommand() *cobra.Command {
	return a.probeCmd(&probeFlags{cfg: defaultProbeConfig()})
}

// probeCmd builds the command around f, which receives the flags.
func (a *app) probeCmd(f *probeFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "probe -i IFACE,...|any [flags]",
		Short: "Capture live traffic on interfaces into the store (daemon)",
		Long: `Captures on several interfaces at once (AF_PACKET rings; needs CAP_NET_RAW)
and stores their flows in blocks of --interval. "-i any" captures every
interface that is up, loopback excepted; -x leaves out names matching glob
patterns. Keys of the --config YAML file are the long flag names; flags
given on the command line win.

Signals: SIGTERM / SIGINT write the open blocks and exit 0. SIGHUP reloads
the configuration file and the interface list without losing data
(removed interfaces write their open block, added ones start).
Interfaces that disappear write their block and are captured again when
they come back. Counters: 'flowsql status', and Prometheus text format on
http://--metrics/metrics (loopback only).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.probe(cmd.Context(), cmd.Flags(), f)
		},
	}
	fl := cmd.Flags()
	c := &f.cfg
	fl.StringSliceVarP(&c.Interfaces, "interfaces", "i", nil, `interfaces to capture (names or globs), or "any"`)
	fl.StringSliceVarP(&c.Exclude, "exclude", "x", nil, "interfaces to leave out (glob patterns, e.g. docker0,veth*)")
	fl.StringVar(&f.config, "config", "", "YAML configuration file (keys: the long flag names)")
	fl.DurationVar(&c.Interval, "interval", c.Interval, "block length (rotation interval), whole seconds")
	fl.StringVar(&c.Retain, "retain", "", "after each rotation, drop days older than this (e.g. 30d)")
	fl.StringVar(&c.MaxDisk, "max-disk", "", "after each rotation, drop the oldest days while data exceeds this (e.g. 10GiB)")
	fl.StringVar(&c.Metrics, "metrics", c.Metrics, `loopback address of the Prometheus /metrics endpoint ("" turns it off)`)
	fl.BoolVar(&c.Promisc, "promisc", false, "put the interfaces into promiscuous mode")
	fl.IntVar(&c.Fanout, "fanout", c.Fanout, "rings (and capture threads) per interface, PACKET_FANOUT_HASH")
	fl.StringVar(&c.Local, "local", "", "this host's networks, CIDR,...: only used where the kernel gives no direction")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	return cmd
}

// resolve builds the configuration: defaults, the file, the flags given.
func (f *probeFlags) resolve(fl *pflag.FlagSet) (probeConfig, error) {
	c := defaultProbeConfig()
	if f.config != "" {
		if err := readProbeConfig(f.config, &c); err != nil {
			return c, err
		}
	}
	set := func(name string, apply func()) {
		if fl.Changed(name) {
			apply()
		}
	}
	set("interfaces", func() { c.Interfaces = f.cfg.Interfaces })
	set("exclude", func() { c.Exclude = f.cfg.Exclude })
	set("interval", func() { c.Interval = f.cfg.Interval })
	set("retain", func() { c.Retain = f.cfg.Retain })
	set("max-disk", func() { c.MaxDisk = f.cfg.MaxDisk })
	set("metrics", func() { c.Metrics = f.cfg.Metrics })
	set("promisc", func() { c.Promisc = f.cfg.Promisc })
	set("fanout", func() { c.Fanout = f.cfg.Fanout })
	set("local", func() { c.Local = f.cfg.Local })
	return c, validateProbeConfig(&c)
}

// validateProbeConfig checks what can be checked before capturing.
func validateProbeConfig(c *probeConfig) error {
	if err := checkIfacePatterns(c); err != nil {
		return err
	}
	if c.Interval < time.Second || c.Interval%time.Second != 0 {
		return fmt.Errorf("interval %v: want a whole number of seconds, at least 1s", c.Interval)
	}
	if c.Fanout < 1 || c.Fanout > ingest.MaxFanout {
		return fmt.Errorf("fanout %d: want 1..%d", c.Fanout, ingest.MaxFanout)
	}
	if _, err := retentionPolicy(c.Retain, c.MaxDisk); err != nil {
		return err
	}
	if _, err := ingest.ParseLocalNets(c.Local); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	return checkMetricsAddr(c.Metrics)
}

// newLogger returns the probe's structured logger on w.
func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

func (a *app) probe(ctx context.Context, fl *pflag.FlagSet, f *probeFlags) error {
	cfg, err := f.resolve(fl)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	log, err := newLogger(a.stderr, f.logFormat)
	if err != nil {
		return err
	}
	db, err := columnar.Open(ctx, a.db, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	a.reportRecovery(db)
	p := &probeRun{a: a, fl: fl, f: f, cfg: cfg, db: db, log: log, started: time.Now(), pid: os.Getpid()}
	return p.run(ctx)
}

// ifaceLister reads the system's interfaces (net.Interfaces; tests swap it).
type ifaceLister func() ([]net.Interface, error)

// syncIfaces captures the interfaces the configuration wants now.
func (p *probeRun) syncIfaces(list ifaceLister) error {
	sys, err := list()
	if err != nil {
		p.log.Warn("cannot list interfaces", "err", err)
		return err
	}
	want := wantedIfaces(&p.cfg, sys)
	if names := ifaceNames(want); !slices.Equal(names, p.lastWant) {
		p.log.Info("interfaces to capture", "ifaces", names, "configured", p.cfg.Interfaces, "exclude", p.cfg.Exclude)
		p.lastWant = names
	}
	return p.sup.Sync(want)
}

// reload re-reads the configuration (SIGHUP). Keys that need a restart
// keep their value, with a warning.
func (p *probeRun) reload() {
	cfg, err := p.f.resolve(p.fl)
	if err != nil {
		p.log.Error("reload failed; keeping the configuration", "err", err)
		return
	}
	for _, k := range []struct {
		key     string
		changed bool
	}{
		{"interval", cfg.Interval != p.cfg.Interval},
		{"fanout", cfg.Fanout != p.cfg.Fanout},
		{"promisc", cfg.Promisc != p.cfg.Promisc},
		{"metrics", cfg.Metrics != p.cfg.Metrics},
		{"local", cfg.Local != p.cfg.Local},
	} {
		if k.changed {
			p.log.Warn("reload: a change of this key needs a restart; ignored", "key", k.key)
		}
	}
	cfg.Interval, cfg.Fanout, cfg.Promisc, cfg.Metrics, cfg.Local = p.cfg.Interval, p.cfg.Fanout, p.cfg.Promisc, p.cfg.Metrics, p.cfg.Local
	policy, _ := retentionPolicy(cfg.Retain, cfg.MaxDisk) // validated by resolve
	p.policy.Store(policy)
	p.cfg = cfg
	p.log.Info("configuration reloaded", "interfaces", cfg.Interfaces, "exclude", cfg.Exclude)
}

// isPermission reports whether err is a missing privilege.
func isPermission(err error) bool { return errors.Is(err, os.ErrPermission) }
