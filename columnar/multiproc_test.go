package columnar_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowsql/flowsql/columnar"
	"github.com/flowsql/flowsql/columnar/columnartest"
)

// Tests of one writer process and reader processes on one folder, as the
// probe and `flowsql list/query/check` run. The other processes are this
// test binary re-executed into TestHelperProcess, which plays the role that
// FLOWSQL_COLUMNAR_HELPER names.

const (
	envHelper = "FLOWSQL_COLUMNAR_HELPER"
	envDir    = "FLOWSQL_COLUMNAR_DIR"
	envN      = "FLOWSQL_COLUMNAR_N"

	mpBlocks   = 40              // blocks the writer process writes
	mpRetain   = 34              // after this block the writer drops the first day
	mpDropped  = 28              // blocks of the first day: 0..27
	mpReaders  = 3               // reader processes
	mpMaxWait  = 2 * time.Second // longest a reader's call may take
	helperSays = "helper: "      // prefix of protocol lines on a helper's stdout
)

// mpBlock is block i of the multi-process tests, the same in every process:
// two interfaces, one block an hour each, so the writer crosses days.
func mpBlock(i int) *columnar.Block {
	r := rand.New(rand.NewPCG(uint64(i), 99))
	iface := []string{"eth0", "eth1"}[i%2]
	return randomBlock(r, iface, t0+int64(i/2)*3600, 100+i)
}

// mpIndex maps a listed block back to its i.
func mpIndex(m *columnar.BlockMeta) int {
	i := int(m.Start-t0) / 3600 * 2
	if m.Iface == "eth1" {
		i++
	}
	return i
}

func TestHelperProcess(t *testing.T) {
	role := os.Getenv(envHelper)
	if role == "" {
		t.Skip("only runs re-executed by the multi-process tests")
	}
	dir := os.Getenv(envDir)
	n, _ := strconv.Atoi(os.Getenv(envN))
	switch role {
	case "writer":
		helperWriter(t, dir, n)
	case "reader":
		helperReader(t, dir, n)
	case "crasher":
		helperCrasher(t, dir)
	default:
		t.Fatalf("unknown helper role %q", role)
	}
}

func say(format string, args ...any) {
	fmt.Printf(helperSays+format+"\n", args...)
}

// helperWriter opens the store read-write (with fsync, as the probe does),
// says "ready", waits for a line on stdin, then writes blocks 1..n and,
// after block mpRetain, drops the first day (blocks 0..mpDropped-1) with
// Retain.
func helperWriter(t *testing.T, dir string, n int) {
	ctx := context.Background()
	db, err := columnar.Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	say("ready %d", os.Getpid())
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := db.Write(ctx, mpBlock(i)); err != nil {
			t.Fatal(err)
		}
		if i == mpRetain {
			rep, err := db.Retain(ctx, columnar.RetentionPolicy{MaxAge: time.Hour, Now: time.Unix(t0+day, 0)})
			if err != nil || rep.Blocks != mpDropped {
				t.Fatalf("retain: %+v, %v", rep, err)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	say("done")
}

// helperReader opens the store read-only again and again, as CLI commands
// do, lists the blocks, reads every new block in full and compares it with
// mpBlock, and now and then runs Check. Every listing must be a state the
// writer went through: blocks 0..k before retention, mpDropped..k after.
// Only a block of the dropped day may read as ErrBlockRemoved. The reader
// stops one pass after it has seen the final state and reports what it saw.
func helperReader(t *testing.T, dir string, n int) {
	ctx := context.Background()
	var maxWait time.Duration
	timed := func(what string, fn func() error) {
		start := time.Now()
		err := fn()
		d := time.Since(start)
		maxWait = max(maxWait, d)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if d > mpMaxWait {
			t.Errorf("%s took %v, limit %v", what, d, mpMaxWait)
		}
	}
	verified := make(map[int]bool)
	states := make(map[[2]int]bool)
	checks, passes, removed := 0, 0, 0
	deadline := time.Now().Add(90 * time.Second)
	for last := false; !last; passes++ {
		if time.Now().After(deadline) {
			t.Fatalf("did not see the final state before the deadline; saw %v", states)
		}
		var db *columnar.DB
		timed("open", func() (err error) {
			db, err = columnar.Open(ctx, dir, &columnar.Options{ReadOnly: true})
			return err
		})
		var ms []columnar.BlockMeta
		timed("blocks", func() (err error) { ms, err = db.Blocks(ctx, columnar.Selector{}); return err })
		idx := make([]int, len(ms))
		for j := range ms {
			idx[j] = mpIndex(&ms[j])
		}
		slices.Sort(idx)
		lo, hi := idx[0], idx[len(idx)-1]
		if hi-lo+1 != len(idx) || !(lo == 0 && hi <= mpRetain || lo == mpDropped && hi >= mpRetain) {
			t.Fatalf("listed blocks %v: not a state the writer went through", idx)
		}
		states[[2]int{lo, hi}] = true
		last = lo == mpDropped && hi == n
		for _, m := range ms {
			i := mpIndex(&m)
			if verified[i] {
				continue
			}
			var got *columnar.Block
			timed("read block", func() (err error) {
				got, err = db.ReadBlock(ctx, &m, nil)
				if errors.Is(err, columnar.ErrBlockRemoved) && i < mpDropped {
					removed++
					return nil
				}
				return err
			})
			if got == nil {
				continue
			}
			if !slices.Equal(rowsOf(got), storeOrder(rowsOf(mpBlock(i)))) {
				t.Fatalf("block %d (%s@%d) reads differently from what was written", i, m.Iface, m.Start)
			}
			verified[i] = true
		}
		timed("summary", func() error { _, err := db.Summary(ctx); return err })
		if passes%4 == 0 || last {
			checks++
			timed("check", func() error { return errors.Join(db.Check(ctx)...) })
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	say("stats passes=%d states=%d checks=%d removed=%d maxwait=%s", passes, len(states), checks, removed, maxWait)
}

// helperCrasher writes blocks 0..3 of eth0, then leaves a new day file
// without its index entry (failpoint error), then stops for good between the
// data fsync and the index commit of a fifth block: it says "synced" and
// sleeps until the test SIGKILLs it.
func helperCrasher(t *testing.T, dir string) {
	ctx := context.Background()
	g := newFlowGen(8)
	db, err := columnar.Open(ctx, dir, &columnar.Options{FailAfterDataSync: func(_ string, start int64) error {
		switch start {
		case t0 + day:
			return errCrash
		case t0 + 4*300:
			say("synced %d", os.Getpid())
			time.Sleep(time.Hour)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := db.Write(ctx, g.block("eth0", t0+int64(i)*300, 300)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Write(ctx, g.block("eth0", t0+day, 300)); !errors.Is(err, errCrash) {
		t.Fatalf("new-day write with failpoint: %v", err)
	}
	_ = db.Write(ctx, g.block("eth0", t0+4*300, 300))
	t.Fatal("the write past the failpoint returned")
}

// helperProc is a running helper process.
type helperProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // protocol lines, closed at EOF
	other  []string    // the rest of stdout, for failure messages
	stderr bytes.Buffer
	done   chan struct{}
}

func startHelper(t *testing.T, ctx context.Context, role, dir string, n int) *helperProc {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelper+"="+role, envDir+"="+dir, envN+"="+strconv.Itoa(n))
	p := &helperProc{t: t, cmd: cmd, lines: make(chan string, 64), done: make(chan struct{})}
	cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), helperSays); ok {
				p.lines <- line
			} else {
				p.other = append(p.other, sc.Text())
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		p.wait()
	})
	return p
}

// expect returns the next protocol line, which must start with word.
func (p *helperProc) expect(word string) string {
	p.t.Helper()
	line, ok := <-p.lines
	if !ok || !strings.HasPrefix(line, word) {
		err := p.wait()
		p.t.Fatalf("%s helper: got %q (exit %v), want %q\nstdout: %s\nstderr: %s",
			p.cmd.Env[len(p.cmd.Env)-3], line, err, word, strings.Join(p.other, "\n"), p.stderr.String())
	}
	return line
}

// wait drains stdout and waits for the exit. It may be called again.
func (p *helperProc) wait() error {
	for range p.lines {
	}
	<-p.done
	if p.cmd.ProcessState != nil {
		if !p.cmd.ProcessState.Success() {
			return errors.New(p.cmd.ProcessState.String())
		}
		return nil
	}
	return p.cmd.Wait()
}

// mustExit waits for a clean exit and returns the protocol lines left.
func (p *helperProc) mustExit() []string {
	p.t.Helper()
	var lines []string
	for line := range p.lines {
		lines = append(lines, line)
	}
	if err := p.wait(); err != nil {
		p.t.Fatalf("helper %s: %v\nstdout: %s\nstderr: %s", p.cmd.Env[len(p.cmd.Env)-3], err, strings.Join(p.other, "\n"), p.stderr.String())
	}
	return lines
}

// TestWriterAndReaderProcesses runs a writer process appending blocks (and
// once dropping a day) while reader processes list and read them: no reader
// ever fails, waits longer than mpMaxWait for any call, lists a state the
// writer never committed or reads a block that differs from what was
// written; a second writer is refused with ErrLocked naming the writer's
// pid; a read-only Check beside the writer finds nothing wrong.
func TestWriterAndReaderProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	db := columnartest.OpenDir(t, dir, nil)
	mustWrite(t, db, mpBlock(0))
	columnartest.MustCheck(t, db)

	w := startHelper(t, ctx, "writer", dir, mpBlocks)
	w.expect("ready")
	_, err := columnar.Open(ctx, dir, nil)
	var le *columnar.LockedError
	if !errors.As(err, &le) || !errors.Is(err, columnar.ErrLocked) || le.PID != w.cmd.Process.Pid {
		t.Fatalf("second writer beside pid %d: %v", w.cmd.Process.Pid, err)
	}
	var readers []*helperProc
	for range mpReaders {
		readers = append(readers, startHelper(t, ctx, "reader", dir, mpBlocks))
	}
	if _, err := io.WriteString(w.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	w.expect("done")
	w.mustExit()
	states := 0
	for _, r := range readers {
		lines := r.mustExit()
		if len(lines) != 1 {
			t.Fatalf("reader said %q", lines)
		}
		t.Logf("reader: %s", lines[0])
		var passes, seen, checks, removed int
		var maxWait string
		if _, err := fmt.Sscanf(lines[0], "stats passes=%d states=%d checks=%d removed=%d maxwait=%s", &passes, &seen, &checks, &removed, &maxWait); err != nil {
			t.Fatalf("reader stats %q: %v", lines[0], err)
		}
		states += seen
	}
	// Each reader saw the final state; together they must have seen the
	// store grow, or the test did not overlap reads with writes.
	if states < mpReaders+2 {
		t.Errorf("readers saw %d store states in all, want reads overlapping the writes", states)
	}

	db = columnartest.OpenDir(t, dir, nil)
	if n := len(mustBlocks(t, db, columnar.Selector{})); n != mpBlocks+1-mpDropped {
		t.Fatalf("%d blocks, want %d", n, mpBlocks+1-mpDropped)
	}
}

// TestKilledWriter SIGKILLs a writer between a block's data fsync and its
// index commit: meanwhile readers see only committed blocks and a clean
// read-only Check, a second writer is refused; after the kill the lock is
// free and the next writer's Open recovers the folder.
func TestKilledWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	c := startHelper(t, ctx, "crasher", dir, 0)
	c.expect("synced")

	r := columnartest.OpenDir(t, dir, &columnar.Options{ReadOnly: true})
	if n := len(mustBlocks(t, r, columnar.Selector{})); n != 4 {
		t.Errorf("reader sees %d blocks beside the stopped writer, want 4", n)
	}
	if errs := r.Check(ctx); len(errs) > 0 {
		t.Errorf("read-only check beside the stopped writer: %v", errs)
	}
	if _, err := columnar.Open(ctx, dir, nil); !errors.Is(err, columnar.ErrLocked) {
		t.Fatalf("second writer beside the stopped one: %v", err)
	}

	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := c.wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("helper exit: %v", err)
	}
	db := columnartest.OpenDir(t, dir, nil)
	rep := db.Recovered()
	if !slices.Equal(rep.TruncatedFiles, []string{"data/eth0/20250310.fsc"}) || rep.TruncatedBytes <= 0 {
		t.Errorf("recovery truncated %v (%d bytes)", rep.TruncatedFiles, rep.TruncatedBytes)
	}
	if !slices.Equal(rep.RemovedFiles, []string{"data/eth0/20250311.fsc"}) {
		t.Errorf("recovery removed %v", rep.RemovedFiles)
	}
	if n := len(mustBlocks(t, db, columnar.Selector{})); n != 4 {
		t.Errorf("%d blocks after recovery, want 4", n)
	}
	mustWrite(t, db, newFlowGen(9).block("eth0", t0+4*300, 300))
	if n := len(mustBlocks(t, r, columnar.Selector{})); n != 5 {
		t.Errorf("reader sees %d blocks after the new writer's write, want 5", n)
	}
}
