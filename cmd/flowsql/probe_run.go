package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/ingest"
	"github.com/spf13/pflag"
)

// probeRun is one run of the probe daemon.
type probeRun struct {
	a       *app
	fl      *pflag.FlagSet
	f       *probeFlags
	cfg     probeConfig // current configuration; main loop only
	db      *columnar.DB
	log     *slog.Logger
	started time.Time
	pid     int

	sup      *ingest.Supervisor
	policy   atomic.Pointer[columnar.RetentionPolicy] // nil: no retention
	lastWant []string                                 // main loop only
	// statusWarned is when a failure to write the status file was last
	// logged; main loop only.
	statusWarned time.Time
}

// run captures until ctx is done (SIGTERM / SIGINT), then writes the open
// blocks and returns.
func (p *probeRun) run(ctx context.Context) error {
	cfg := p.cfg
	local, _ := ingest.ParseLocalNets(cfg.Local) // validated
	policy, _ := retentionPolicy(cfg.Retain, cfg.MaxDisk)
	p.policy.Store(policy)
	// Writes outlive the shutdown signal: Close writes the open blocks.
	wctx := context.WithoutCancel(ctx)
	retain := make(chan struct{}, 1)
	sink := &probeSink{db: p.db, log: p.log, retain: retain}
	sup, err := ingest.NewSupervisor(wctx, sink, ingest.LiveOptions{
		Interval: cfg.Interval, Local: local, Fanout: cfg.Fanout, Logger: p.log,
		Ring:      ingestRingOptions(cfg),
		StoredEnd: storedEnd(wctx, p.db),
	})
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	p.sup = sup

	var wg sync.WaitGroup
	bg, stopBG := context.WithCancel(wctx)
	defer stopBG()
	wg.Go(func() { p.retentionLoop(bg, retain) })
	retain <- struct{}{} // once at start
	stopMetrics, err := p.startMetrics(cfg.Metrics)
	if err != nil {
		_ = sup.Close()
		stopBG()
		wg.Wait()
		return err
	}
	if serve := p.a.flightServer(); serve != nil {
		wg.Go(func() {
			if err := serve(bg, p.db); err != nil {
				p.log.Error("server stopped", "err", err)
			}
		})
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := p.syncIfaces(net.Interfaces); err != nil && isPermission(err) && len(sup.Status()) == 0 {
		_ = sup.Close()
		stopMetrics()
		stopBG()
		wg.Wait()
		return fmt.Errorf("probe: %w (run as root or with CAP_NET_RAW)", err)
	}
	p.log.Info("probe started", "db", p.db.Dir(), "interval", cfg.Interval, "fanout", cfg.Fanout, "metrics", cfg.Metrics, "pid", p.pid)
	p.writeStatus(false)
	tick := time.NewTicker(probeTick)
	defer tick.Stop()
	lastPoll := time.Now()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-hup:
			p.reload()
			_ = p.syncIfaces(net.Interfaces)
			lastPoll = time.Now()
		case now := <-tick.C:
			sup.Tick(now)
			if now.Sub(lastPoll) >= ifacePollEvery {
				_ = p.syncIfaces(net.Interfaces)
				lastPoll = now
			}
			p.writeStatus(false)
		}
	}
	p.log.Info("stopping: writing the open blocks", "cause", context.Cause(ctx))
	closeErr := sup.Close()
	stopMetrics()
	stopBG()
	wg.Wait()
	p.writeStatus(true)
	if closeErr != nil {
		return fmt.Errorf("probe: %w", closeErr)
	}
	p.log.Info("probe stopped")
	return nil
}

// ingestRingOptions returns the ring options of the configuration: the
// capture package's defaults (8 x 1 MiB blocks, 100 ms retire timeout).
func ingestRingOptions(cfg probeConfig) capture.RingOptions {
	return capture.RingOptions{Promiscuous: cfg.Promisc}
}

// writeStatus rewrites the status file; failures are logged once a minute.
func (p *probeRun) writeStatus(stopped bool) {
	st := &probeStatusFile{
		Version: statusFileVersion, PID: p.pid, Started: p.started.UTC(), Updated: time.Now().UTC(),
		Stopped: stopped, Interval: p.cfg.Interval.String(), Metrics: p.cfg.Metrics,
		Ifaces: toStatusJSON(p.sup.Status()),
	}
	if err := writeStatusFile(p.db.Dir(), st); err != nil && (stopped || time.Since(p.statusWarned) > time.Minute) {
		p.statusWarned = time.Now()
		p.log.Warn("cannot write the status file", "err", err)
	}
}

// retentionLoop applies the retention policy whenever asked (after each
// block written), until ctx is done.
func (p *probeRun) retentionLoop(ctx context.Context, due <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-due:
		}
		policy := p.policy.Load()
		if policy == nil {
			continue
		}
		rep, err := p.db.Retain(ctx, *policy)
		switch {
		case err != nil && ctx.Err() == nil:
			p.log.Error("retention failed", "err", err)
		case len(rep.Days) > 0:
			p.log.Info("retention dropped days", "days", len(rep.Days), "blocks", rep.Blocks,
				"bytes", rep.Bytes, "remaining_bytes", rep.Remaining, "over_budget", rep.OverBudget)
		}
	}
}

// startMetrics serves /metrics on addr (none when empty) and returns the
// function that stops the server.
func (p *probeRun) startMetrics(addr string) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("probe: metrics endpoint: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metricsHandler(p.sup.Status, p.started))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("metrics endpoint stopped", "err", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
