package ingest

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind (the aggregators'
// writers in particular).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
