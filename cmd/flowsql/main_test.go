package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// commands run in-process here (query workers, ingest writers, the probe's
// captures and metrics server) must all stop when their command returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
