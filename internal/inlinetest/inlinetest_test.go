package inlinetest

import "testing"

func TestInlinable(t *testing.T) {
	out := "./a.go:3:6: can inline small\n./a.go:9:6: can inline (*T).get with cost 4 as: ...\n./a.go:12:6: cannot inline big: too complex\n"
	got := Inlinable(out)
	if !got["small"] || !got["(*T).get"] || got["big"] || len(got) != 2 {
		t.Fatalf("Inlinable = %v", got)
	}
}
