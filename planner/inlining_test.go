package planner

import (
	"testing"

	"github.com/flowsql/flowsql/internal/inlinetest"
)

// TestInlining checks that the tiny helpers of the inner loops still
// inline: a change that stops one costs a call per row.
func TestInlining(t *testing.T) {
	inlinetest.Check(t,
		"be64", "mum", "mix64", "hash1", "hash2", "hashValue",
		"(*keyLayout).get", "(*keyLayout).put", "contains64", "addSum", "addCount",
	)
}
