package invariants

import (
	"strings"
	"testing"
)

func TestAssertionFailedf(t *testing.T) {
	defer func() {
		r := recover()
		if Enabled && r == nil {
			t.Fatal("AssertionFailedf did not panic with invariants enabled")
		}
		if !Enabled && r != nil {
			t.Fatalf("AssertionFailedf panicked in a release build: %v", r)
		}
	}()
	err := AssertionFailedf("rows %d != %d", 3, 4)
	if err == nil || !strings.Contains(err.Error(), "rows 3 != 4") {
		t.Fatalf("got %v, want an error naming the values", err)
	}
}
