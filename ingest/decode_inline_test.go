package ingest

import (
	"bytes"
	"os/exec"
	"regexp"
	"runtime"
	"testing"
)

// TestDecodeInlining asserts that the tiny helpers of the decoder and the
// fragment table still inline (as net/netip's inlining_test.go does).
func TestDecodeInlining(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	gobin := runtime.GOROOT() + "/bin/go"
	if _, err := exec.LookPath(gobin); err != nil {
		t.Skipf("no go tool: %v", err)
	}
	out, err := exec.Command(gobin, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	got := map[string]bool{}
	re := regexp.MustCompile(`(?m)^\S+\.go:\d+:\d+: can inline (\S+)`)
	for _, m := range re.FindAllSubmatch(out, -1) {
		got[string(bytes.TrimSpace(m[1]))] = true
	}
	for _, fn := range []string{
		"sllDir",
		"leUint64",
		"(*fragEntry).matches",
		"(*fragTable).expired",
		"(*Decoder).decodeSLLProto",
	} {
		if !got[fn] {
			t.Errorf("%s is not inlinable any more", fn)
		}
	}
}
