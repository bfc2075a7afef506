package capture

import (
	"os/exec"
	"regexp"
	"runtime"
	"testing"
)

// TestRingInlining checks that the tiny helpers of the ring walker's hot
// path still inline (as net/netip's inlining_test.go does).
func TestRingInlining(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not found: %v", err)
	}
	out, err := exec.Command(goBin, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	want := []string{"blockStatus", "tpAlignUp", `\(\*ringReader\)\.block`, `\(\*ringReader\)\.release`}
	if runtime.GOOS == "linux" {
		want = append(want, "htons")
	}
	for _, fn := range want {
		if !regexp.MustCompile(`can inline ` + fn + `\b`).Match(out) {
			t.Errorf("%s no longer inlines", fn)
		}
	}
}
