package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowsql/flowsql/ingest"
)

func TestStatusCommand(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	st := &probeStatusFile{
		Version: statusFileVersion, PID: os.Getpid(), Started: now.Add(-time.Hour), Updated: now,
		Interval: "5m0s", Ifaces: toStatusJSON([]ingest.LiveStatus{{
			Iface: "eth0", Index: 2, Running: true, Counts: ingest.Counts{Packets: 10, Bytes: 2048, Blocks: 3},
			OpenFlows: 4, OpenStart: now.Unix() - 60, LastWrite: now.Add(-time.Minute), Dropped: 1, LastError: "disk full",
		}}),
	}
	if err := writeStatusFile(dir, st); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, statusFileName+".tmp")); !os.IsNotExist(err) {
		t.Errorf("tmp file left: %v", err)
	}
	code, out, errs := runCLI(t, "--db", dir, "status")
	if code != 0 || !strings.Contains(out, "eth0") || !strings.Contains(out, "capturing") ||
		!strings.Contains(out, "1 blocks dropped") || !strings.Contains(out, "disk full") {
		t.Errorf("status: %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "--db", dir, "status", "--format", "json")
	var js struct {
		Running bool              `json:"running"`
		Ifaces  []ifaceStatusJSON `json:"ifaces"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != 0 || !js.Running || js.Ifaces[0].Blocks != 3 {
		t.Errorf("json status: %d %v\n%s", code, err, out)
	}

	// Stale, stopped, gone, missing: exit 1 with the reason.
	for _, tc := range []struct {
		name   string
		edit   func(*probeStatusFile)
		reason string
	}{
		{"stale", func(s *probeStatusFile) { s.Updated = now.Add(-time.Minute) }, "not responding"},
		{"stopped", func(s *probeStatusFile) { s.Stopped = true }, "stopped at"},
		{"gone", func(s *probeStatusFile) { s.PID = 1 << 30 }, "is gone"},
	} {
		c := *st
		tc.edit(&c)
		if err := writeStatusFile(dir, &c); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCLI(t, "--db", dir, "status")
		if code != 1 || !strings.Contains(errs, tc.reason) {
			t.Errorf("%s: exit %d, stderr %q", tc.name, code, errs)
		}
	}
	if code, _, errs := runCLI(t, "--db", t.TempDir(), "status"); code != 1 || !strings.Contains(errs, "no probe status file") {
		t.Errorf("missing file: exit %d, %q", code, errs)
	}
	if err := os.WriteFile(filepath.Join(dir, statusFileName), []byte(`{"version": 99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "--db", dir, "status"); code != 1 || !strings.Contains(errs, "version 99") {
		t.Errorf("future version: exit %d, %q", code, errs)
	}
}
