package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/flowsql/flowsql/capture"
	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
	pb "github.com/flowsql/flowsql/internal/pktbuild"
)

// crashFiles is how many capture files the crash test ingests, one killed
// run each; crashIntervals is how many five-minute blocks each file spans.
const (
	crashFiles     = 12
	crashIntervals = 40
)

// TestCrashSafety runs real `flowsql ingest` processes and kills them with
// SIGKILL at random moments, one capture file (disjoint in time) per run,
// all into one store. After every kill `flowsql check` must pass, and every
// block the store holds must equal, row for row, the same block of an
// uninterrupted reference ingest.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and ingests many blocks; skipped in -short mode")
	}
	tmp := t.TempDir()
	bin := buildFlowsql(t, tmp)
	files := make([]string, crashFiles)
	for i := range files {
		files[i] = filepath.Join(tmp, fmt.Sprintf("eth0-%02d.pcap", i))
		writeCrashCapture(t, files[i], int64(i))
	}

	ref := filepath.Join(tmp, "ref")
	start := time.Now()
	if out, err := exec.Command(bin, "--db", ref, "ingest", "--iface", "eth0", files[0]).CombinedOutput(); err != nil {
		t.Fatalf("reference ingest: %v\n%s", err, out)
	}
	perFile := time.Since(start)
	if out, err := exec.Command(bin, append([]string{"--db", ref, "ingest", "--iface", "eth0"}, files[1:]...)...).CombinedOutput(); err != nil {
		t.Fatalf("reference ingest: %v\n%s", err, out)
	}
	want := readAllBlocks(t, ref)
	if len(want) != crashFiles*crashIntervals {
		t.Fatalf("reference store has %d blocks, want %d", len(want), crashFiles*crashIntervals)
	}

	db := filepath.Join(tmp, "db")
	rng := rand.New(rand.NewPCG(1, 2))
	killed := 0
	for i, file := range files {
		cmd := exec.Command(bin, "--db", db, "ingest", "--iface", "eth0", file)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(perFile) * 11 / 10))
		wasKilled := false
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-time.After(delay):
			_ = cmd.Process.Kill()
			<-done
			killed++
			wasKilled = true
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d: ingest failed before the kill: %v", i, err)
			}
		}
		if out, err := exec.Command(bin, "--db", db, "check").CombinedOutput(); err != nil {
			t.Fatalf("run %d (killed after %v): check failed: %v\n%s", i, delay, err, out)
		}
		got := readAllBlocks(t, db)
		for key, b := range got {
			w, ok := want[key]
			if !ok {
				t.Fatalf("run %d: store holds block %v the reference lacks", i, key)
			}
			if !reflect.DeepEqual(b, w) {
				t.Fatalf("run %d: block %v differs from the reference", i, key)
			}
		}
		t.Logf("run %d: killed=%v after %v, %d blocks committed in all", i, wasKilled, delay, len(got))
	}
	if killed == 0 {
		t.Fatal("no run was killed: the test proved nothing")
	}
}

// buildFlowsql compiles this command into dir and returns the binary.
func buildFlowsql(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "flowsql")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// writeCrashCapture writes a pcap of crashIntervals five-minute intervals of
// TCP and UDP traffic, starting at a day boundary shifted by file index k so
// files are disjoint in time and some cross a UTC day (a new data file).
func writeCrashCapture(t *testing.T, path string, k int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewPcapWriter(f, capture.LinkEthernet, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(k), 7))
	base := time.Date(2025, 3, 10, 20, 0, 0, 0, time.UTC).Unix() + k*crashIntervals*300
	for iv := int64(0); iv < crashIntervals; iv++ {
		for p := 0; p < 150; p++ {
			ts := (base+iv*300)*1e9 + int64(p)*1e9
			client := netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(4)), byte(1 + rng.IntN(50))})
			server := netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + rng.IntN(20))})
			sport := uint16(32768 + rng.IntN(1000))
			dport := []uint16{53, 80, 443, 8080}[rng.IntN(4)]
			var l4 pb.Layer = pb.UDP{SrcPort: sport, DstPort: dport}
			if dport != 53 {
				l4 = pb.TCP{SrcPort: sport, DstPort: dport, Flags: pb.ACK}
			}
			src, dst := client, server
			if rng.IntN(2) == 0 {
				src, dst = server, client
				switch l := l4.(type) {
				case pb.UDP:
					l4 = pb.UDP{SrcPort: l.DstPort, DstPort: l.SrcPort}
				case pb.TCP:
					l4 = pb.TCP{SrcPort: l.DstPort, DstPort: l.SrcPort, Flags: pb.ACK}
				}
			}
			frame := pb.MustBuild(pb.Ethernet{}, pb.IPv4{Src: src, Dst: dst}, l4, pb.Payload(make([]byte, rng.IntN(200))))
			if err := w.WritePacket(ts, frame, uint32(len(frame))); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// blockKey names a stored block.
type blockKey struct {
	iface string
	start int64
}

// readAllBlocks reads every block of a store, rows sorted, keyed by
// interface and start.
func readAllBlocks(t *testing.T, dir string) map[blockKey]*columnar.Block {
	t.Helper()
	ctx := context.Background()
	db, err := columnar.Open(ctx, dir, &columnar.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	defer db.Close()
	metas, err := db.Blocks(ctx, columnar.Selector{})
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[blockKey]*columnar.Block, len(metas))
	for i := range metas {
		b, err := db.ReadBlock(ctx, &metas[i], nil)
		if err != nil {
			t.Fatalf("read block %s@%d: %v", metas[i].Iface, metas[i].Start, err)
		}
		out[blockKey{b.Iface, b.Start}] = columnartest.SortedRows(b)
	}
	return out
}
