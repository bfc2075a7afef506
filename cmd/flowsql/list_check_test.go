package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoListCheck runs the newcomer's path: demo ingests the embedded
// capture, list shows it as a table and as JSON, check passes; then one
// byte of a chunk is flipped and check reports the damage and exits 1.
func TestDemoListCheck(t *testing.T) {
	db := t.TempDir()
	code, out, errOut := runCLI(t, "--db", db, "demo")
	if code != 0 {
		t.Fatalf("demo exited %d: %s%s", code, out, errOut)
	}
	for _, want := range []string{"demo-eth0", "10.20.0.2", "10.20.0.1", "8080", "tcp"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	// A second demo finds the sample already stored and does not fail.
	if code, out, errOut := runCLI(t, "--db", db, "demo"); code != 0 || !strings.Contains(out, "already") {
		t.Fatalf("second demo exited %d: %s%s", code, out, errOut)
	}

	code, out, _ = runCLI(t, "--db", db, "list", "--format", "json")
	if code != 0 {
		t.Fatalf("list exited %d", code)
	}
	var rows []listRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("list json: %v\n%s", err, out)
	}
	// The sample: 662 frames, 4 of them non-IP (ARP), recorded
	// by scripts/make-sample-capture.
	if len(rows) != 1 || rows[0].Iface != "demo-eth0" || rows[0].Packets+rows[0].NonIP != 662 || rows[0].NonIP != 4 || rows[0].Blocks < 1 {
		t.Fatalf("list json = %+v", rows)
	}
	if code, out, _ := runCLI(t, "--db", db, "list"); code != 0 || !strings.Contains(out, "demo-eth0") {
		t.Fatalf("list table exited %d:\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "--db", db, "list", "--format", "xml"); code == 0 || !strings.Contains(errOut, "xml") {
		t.Fatalf("list --format xml exited %d: %s", code, errOut)
	}

	if code, out, _ := runCLI(t, "--db", db, "check"); code != 0 || !strings.Contains(out, "check: ok") {
		t.Fatalf("check exited %d:\n%s", code, out)
	}
	files, err := filepath.Glob(filepath.Join(db, "data", "*", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no data files under %s: %v", db, err)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(files[0], raw, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "--db", db, "check")
	if code != 1 || !strings.Contains(out, "damage:") || !strings.Contains(out, filepath.Base(files[0])) {
		t.Fatalf("check of a damaged store exited %d:\n%s", code, out)
	}
}

func TestListMissingStore(t *testing.T) {
	code, _, errOut := runCLI(t, "--db", filepath.Join(t.TempDir(), "nothing"), "list")
	if code != 1 || !strings.Contains(errOut, "no flowsql store") {
		t.Fatalf("list of a missing store exited %d: %s", code, errOut)
	}
}

func TestIngestBadFlags(t *testing.T) {
	db := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ingest", "--local", "10.0.0.0/33", "x.pcap"}, "--local"},
		{[]string{"ingest", "--retain", "forever", "x.pcap"}, "--retain"},
		{[]string{"ingest", "--max-disk", "lots", "x.pcap"}, "--max-disk"},
		{[]string{"ingest", "--interval", "90ms", "x.pcap"}, "interval"},
		{[]string{"ingest"}, "arg"},
	} {
		code, _, errOut := runCLI(t, append([]string{"--db", db}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and a message about %s", tc.args, code, errOut, tc.want)
		}
	}
	// A missing file is reported and makes ingest exit 1.
	code, _, errOut := runCLI(t, "--db", db, "ingest", filepath.Join(db, "missing.pcap"))
	if code != 1 || !strings.Contains(errOut, "missing.pcap") {
		t.Errorf("ingest of a missing file: exit %d, stderr %q", code, errOut)
	}
}
