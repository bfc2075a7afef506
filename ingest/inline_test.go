package ingest

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestInlining checks that the small helpers of the per-packet path (the
// decoder, the fragment table, the flow tables and the live loop) still
// inline: losing one silently costs a call per packet. (As in net/netip's
// inlining_test.go.) The compiler runs once for all of them.
func TestInlining(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	goTool := runtime.GOROOT() + "/bin/go"
	if _, err := exec.LookPath(goTool); err != nil {
		t.Skipf("no go tool: %v", err)
	}
	out, err := exec.Command(goTool, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	got := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if _, fn, ok := strings.Cut(line, ": can inline "); ok {
			fn, _, _ = strings.Cut(fn, " ")
			got[fn] = true
		}
	}
	for _, fn := range []string{
		// decoder and fragment table
		"sllDir", "leUint64", "(*fragEntry).matches", "(*fragTable).expired", "(*Decoder).decodeSLLProto",
		// flow tables, orientation, direction
		"mix", "hash4", "(*index).home", "(*index).full", "(*table4).entry", "(*table6).entry",
		"(*counters).add", "(*key6).equal", "words", "outbound", "portsSayClient", "group4", "group6",
		"isMapped4", "(*LocalNets).side4",
		// live loop
		"(*Aggregator).liveDue", "(*liveRing).noteStall",
	} {
		if !got[fn] {
			t.Errorf("%s no longer inlines", fn)
		}
	}
}
