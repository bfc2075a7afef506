package planner

import "errors"

// Sentinel errors. Query errors found by Prepare are *sql.Error values (with
// a position) wrapping sql.ErrType or sql.ErrInvalid, like the parser's;
// the sentinels below describe failures of execution and of partial
// aggregates, and callers compare with errors.Is.
var (
	// ErrMemoryBudget reports a query stopped because its hash tables, rows
	// and column chunks would exceed Options.MemoryBudget. The message names
	// the budget and what needed the memory.
	ErrMemoryBudget = errors.New("planner: memory budget exceeded")

	// ErrPartial reports partial aggregates that cannot be merged: Arrow
	// records of another plan, schema or sketch version, or damaged values.
	ErrPartial = errors.New("planner: bad partial aggregate")

	// ErrPlanMismatch reports Merge or Finish called with partials of a
	// different plan (another query or another sketch version).
	ErrPlanMismatch = errors.New("planner: partial aggregates of another plan")

	// ErrNilDB reports Execute or Explain called without a database.
	ErrNilDB = errors.New("planner: nil database")
)
