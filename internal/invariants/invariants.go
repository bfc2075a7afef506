// Package invariants switches expensive internal consistency checks on in
// test builds. Build with -tags invariants (CI does, together with -race) to
// turn assertion failures into panics; in release builds they are returned as
// errors so bad state is reported, never hidden.
package invariants

import "fmt"

// AssertionFailedf reports a broken internal invariant. Under the invariants
// build tag it panics, so tests stop at the first broken invariant; otherwise
// it returns an error for the caller to return. Never use it for bad input:
// bad input is an ordinary error.
func AssertionFailedf(format string, args ...any) error {
	err := fmt.Errorf("flowsql: assertion failed: "+format, args...)
	if Enabled {
		panic(err)
	}
	return err
}
