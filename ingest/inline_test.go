package ingest

import (
	"testing"

	"github.com/flowsql/flowsql/internal/inlinetest"
)

// TestInlining checks that the small helpers of the per-packet path (the
// decoder, the fragment table, the flow tables and the live loop) still
// inline; the compiler runs once for all of them.
func TestInlining(t *testing.T) {
	inlinetest.Check(t,
		// decoder and fragment table
		"sllDir", "leUint64", "(*fragEntry).matches", "(*fragTable).expired", "(*Decoder).decodeSLLProto",
		// flow tables, orientation, direction
		"mix", "hash4", "(*index).home", "(*index).full", "(*table4).entry", "(*table6).entry",
		"(*counters).add", "(*key6).equal", "words", "outbound", "portsSayClient", "group4", "group6",
		"isMapped4", "(*LocalNets).side4",
		// live loop
		"(*Aggregator).liveDue", "(*liveRing).noteStall",
	)
}
