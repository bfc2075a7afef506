package ingest

import "errors"

// Sentinel errors of the aggregation and ingest pipeline. Errors returned by
// this package wrap one of these (or an error of the source or the sink) with
// context; test them with errors.Is.
var (
	// ErrBadLocalNet: a --local list entry is not a CIDR prefix or address.
	ErrBadLocalNet = errors.New("ingest: bad local network")
	// ErrBadInterval: the rotation interval is not a positive whole number
	// of seconds.
	ErrBadInterval = errors.New("ingest: bad rotation interval")
	// ErrBadIface: an interface name is empty, longer than 255 bytes, or a
	// source reported a packet on an interface index it does not list.
	ErrBadIface = errors.New("ingest: bad interface")
	// ErrNoSink: an Aggregator or IngestSource was given a nil BlockSink.
	ErrNoSink = errors.New("ingest: no block sink")
	// ErrWrite: the block sink failed; ingestion stopped. Blocks written
	// before the failure stay committed.
	ErrWrite = errors.New("ingest: writing block")
	// ErrRead: the packet source failed (corrupt or cut file). Every good
	// packet before the failure has been aggregated and written.
	ErrRead = errors.New("ingest: reading packets")
	// ErrClosed: the Aggregator was used after Close.
	ErrClosed = errors.New("ingest: aggregator closed")
)
