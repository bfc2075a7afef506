// Package inlinetest checks, in a package's tests, that the tiny helpers of
// its hot paths still inline, as net/netip's inlining_test.go does: a change
// that stops one from inlining silently costs a call per packet or row.
package inlinetest

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Check builds the package in the current directory with -gcflags=-m and
// fails the test for every name in fns the compiler no longer reports as
// inlinable. Names are as the compiler prints them: "hash4",
// "(*table4).entry". It skips in -short mode and without the go tool.
func Check(t *testing.T, fns ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the compiler (go build -gcflags=-m)")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(goTool); err != nil {
		t.Skipf("no go tool: %v", err)
	}
	out, err := exec.Command(goTool, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	got := Inlinable(string(out))
	for _, fn := range fns {
		if !got[fn] {
			t.Errorf("%s no longer inlines", fn)
		}
	}
}

// Inlinable returns the functions the compiler's -m output reports as
// inlinable.
func Inlinable(out string) map[string]bool {
	got := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if _, fn, ok := strings.Cut(line, ": can inline "); ok {
			if f := strings.Fields(fn); len(f) > 0 {
				got[f[0]] = true
			}
		}
	}
	return got
}
