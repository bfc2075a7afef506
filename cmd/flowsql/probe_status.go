package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flowsql/flowsql/ingest"
)

// The probe's status file, probe.status.json in the store folder, is
// rewritten every second (tmp file + rename, so readers never see half a
// file) and once more at a clean exit with "stopped": true. `flowsql
// status` reads it; it is not part of the store (columnar ignores it).

const (
	statusFileName    = "probe.status.json"
	statusFileVersion = 1
	// statusStaleAfter: a status file older than this, of a process that
	// did not stop cleanly, means the probe is hung or gone.
	statusStaleAfter = 10 * time.Second
)

// probeStatusFile is the JSON document of the status file.
type probeStatusFile struct {
	Version  int               `json:"version"`
	PID      int               `json:"pid"`
	Started  time.Time         `json:"started"`
	Updated  time.Time         `json:"updated"`
	Stopped  bool              `json:"stopped"`
	Interval string            `json:"interval"`
	Metrics  string            `json:"metrics,omitempty"`
	Ifaces   []ifaceStatusJSON `json:"ifaces"`
}

// ifaceStatusJSON is one interface in the status file (ingest.LiveStatus).
type ifaceStatusJSON struct {
	Iface         string     `json:"iface"`
	Index         int        `json:"index"`
	Rings         int        `json:"rings"`
	Running       bool       `json:"running"`
	Since         *time.Time `json:"since,omitempty"`
	KernelPackets uint64     `json:"kernel_packets"`
	KernelDrops   uint64     `json:"kernel_drops"`
	Freezes       uint64     `json:"kernel_freezes"`
	Packets       uint64     `json:"packets"`
	Bytes         uint64     `json:"bytes"`
	IPPackets     uint64     `json:"ip_packets"`
	NonIP         uint64     `json:"non_ip"`
	ParseErrors   uint64     `json:"parse_errors"`
	Overflow      uint64     `json:"overflow"`
	OpenFlows     int        `json:"open_flows"`
	OpenBlock     *time.Time `json:"open_block,omitempty"`
	Blocks        uint64     `json:"blocks_written"`
	Flows         uint64     `json:"flows_written"`
	LastWrite     *time.Time `json:"last_write,omitempty"`
	WriteErrors   uint64     `json:"write_errors"`
	DroppedBlocks uint64     `json:"dropped_blocks"`
	RingErrors    uint64     `json:"ring_errors"`
	LastError     string     `json:"last_error,omitempty"`
	MaxStallUs    float64    `json:"max_rotation_stall_us"`
}

// toStatusJSON converts the supervisor's view.
func toStatusJSON(sts []ingest.LiveStatus) []ifaceStatusJSON {
	out := make([]ifaceStatusJSON, len(sts))
	for i, s := range sts {
		out[i] = ifaceStatusJSON{
			Iface: s.Iface, Index: s.Index, Rings: s.Rings, Running: s.Running, Since: optTime(s.Since),
			KernelPackets: s.Kernel.Packets, KernelDrops: s.Kernel.Drops, Freezes: s.Kernel.FreezeQueueCount,
			Packets: s.Packets, Bytes: s.Bytes, IPPackets: s.IPPackets, NonIP: s.NonIP,
			ParseErrors: s.ParseErrors, Overflow: s.Overflow, OpenFlows: s.OpenFlows,
			Blocks: s.Blocks, Flows: s.Flows, LastWrite: optTime(s.LastWrite),
			WriteErrors: s.WriteErrors, DroppedBlocks: s.Dropped, RingErrors: s.RingErrors,
			LastError: s.LastError, MaxStallUs: float64(s.MaxStall) / float64(time.Microsecond),
		}
		if s.OpenStart != 0 {
			out[i].OpenBlock = optTime(time.Unix(s.OpenStart, 0).UTC())
		}
	}
	return out
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// writeStatusFile replaces the status file of the store in dir.
func writeStatusFile(dir string, st *probeStatusFile) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("status file: %w", err)
	}
	path := filepath.Join(dir, statusFileName)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("status file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("status file: %w", err)
	}
	return nil
}

// errNoStatus means the store has no status file: no probe ever ran on it.
var errNoStatus = errors.New("no probe status file")

// readStatusFile reads the status file of the store in dir.
func readStatusFile(dir string) (*probeStatusFile, error) {
	path := filepath.Join(dir, statusFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s (has a probe run with this store?)", errNoStatus, dir)
	}
	if err != nil {
		return nil, err
	}
	var st probeStatusFile
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Version != statusFileVersion {
		return nil, fmt.Errorf("%s: status format version %d, this flowsql reads %d", path, st.Version, statusFileVersion)
	}
	return &st, nil
}
