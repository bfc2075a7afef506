package planner

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestInlining checks that the tiny helpers of the inner loops still
// inline (go build -gcflags=-m), as net/netip's inlining_test does: a
// change that stops one from inlining costs a call per row.
func TestInlining(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package with -gcflags=-m")
	}
	gobin := runtime.GOROOT() + "/bin/go"
	out, err := exec.Command(gobin, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Skipf("go build -gcflags=-m: %v\n%s", err, out)
	}
	got := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if _, fn, ok := strings.Cut(line, ": can inline "); ok {
			got[strings.Fields(fn)[0]] = true
		}
	}
	for _, fn := range []string{
		"be64", "mum", "mix64", "hash1", "hash2", "hashValue",
		"(*keyLayout).get", "(*keyLayout).put", "contains64", "addSum", "addCount",
	} {
		if !got[fn] {
			t.Errorf("%s no longer inlines", fn)
		}
	}
}
