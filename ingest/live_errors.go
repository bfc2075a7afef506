package ingest

import "errors"

// Sentinel errors of live capture (live*.go).
var (
	// ErrLiveOptions: LiveOptions hold an impossible value; the message
	// names the field, the value and the limit.
	ErrLiveOptions = errors.New("ingest: bad live capture options")
	// ErrStopped: the cause given to a capture's rings when Stop or
	// Supervisor.Close ends them.
	ErrStopped = errors.New("ingest: live capture stopped")
	// ErrSupervisorClosed: the Supervisor was used after Close.
	ErrSupervisorClosed = errors.New("ingest: live supervisor closed")
)
