package ingest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLiveInlining checks that the helpers of the live per-packet path
// still inline (see TestInlining).
func TestLiveInlining(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
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
	for _, fn := range []string{"(*Aggregator).liveDue", "(*liveRing).noteStall"} {
		if !got[fn] {
			t.Errorf("%s no longer inlines", fn)
		}
	}
}
