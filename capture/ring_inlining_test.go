package capture

import (
	"runtime"
	"testing"

	"github.com/flowsql/flowsql/internal/inlinetest"
)

// TestRingInlining checks that the tiny helpers of the ring walker's hot
// path still inline.
func TestRingInlining(t *testing.T) {
	want := []string{"blockStatus", "tpAlignUp", "(*ringReader).block", "(*ringReader).release"}
	if runtime.GOOS == "linux" {
		want = append(want, "htons")
	}
	inlinetest.Check(t, want...)
}
