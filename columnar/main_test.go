package columnar_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind (the
// codecs of arrow-go and klauspost/compress start some).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
