package gen

import "errors"

// Sentinel errors. Callers compare with errors.Is; the generator wraps them
// with the field, value or block they concern.
var (
	// ErrInvalidConfig reports a Config field out of range; the message names
	// the field, the value and the allowed range.
	ErrInvalidConfig = errors.New("gen: invalid config")

	// ErrKeySpace reports a block that cannot be filled with distinct
	// (sip, dip, dport, proto) keys: the populations are too small for
	// FlowsPerBlock.
	ErrKeySpace = errors.New("gen: key space exhausted")
)
