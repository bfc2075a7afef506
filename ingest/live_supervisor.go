package ingest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultRetryDelay is how long a Supervisor waits before trying again to
// open an interface that failed to open (unless its index changed).
const DefaultRetryDelay = 10 * time.Second

// Supervisor runs the live captures of a set of interfaces that changes
// over time: Sync starts the interfaces that are wanted and not captured,
// and stops (writing their open blocks) those no longer wanted, gone, or
// back with another index, and those whose capture ended on its own.
// Counters of an interface survive its restarts.
//
// All methods may be called from any goroutine; they are serialized.
type Supervisor struct {
	ctx  context.Context
	sink BlockSink
	opts LiveOptions

	mu struct {
		sync.Mutex
		closed  bool
		caps    map[string]*LiveCapture // REQUIRES: mu held
		retired map[string]*LiveStatus  // counters of stopped captures; REQUIRES: mu held
		lastEnd map[string]int64        // end of the last block written; REQUIRES: mu held
		failed  map[string]openFailure  // REQUIRES: mu held
	}
}

// openFailure remembers why an interface did not open.
type openFailure struct {
	index int
	at    time.Time
	msg   string
}

// NewSupervisor returns a supervisor writing blocks to sink. ctx bounds the
// writes (see StartLive): pass one that outlives the shutdown signal and
// call Close to write the open blocks.
func NewSupervisor(ctx context.Context, sink BlockSink, opts LiveOptions) (*Supervisor, error) {
	if sink == nil {
		return nil, ErrNoSink
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Supervisor{ctx: ctx, sink: sink, opts: o}
	s.mu.caps = map[string]*LiveCapture{}
	s.mu.retired = map[string]*LiveStatus{}
	s.mu.lastEnd = map[string]int64{}
	s.mu.failed = map[string]openFailure{}
	s.opts.StoredEnd = s.storedEnd(opts.StoredEnd)
	return s, nil
}

// storedEnd combines the store's answer with the ends this supervisor
// wrote. It is called by StartLive under s.mu.
func (s *Supervisor) storedEnd(store func(string) int64) func(string) int64 {
	return func(iface string) int64 {
		end := s.mu.lastEnd[iface]
		if store != nil {
			end = max(end, store(iface))
		}
		return end
	}
}

// Sync makes the set of captured interfaces equal to want: interfaces no
// longer wanted are stopped first (their open blocks written), then the
// missing ones are started. An interface that failed to open is tried
// again after DefaultRetryDelay, or at once when its index changed. It
// returns the failures to open, joined; the other interfaces run anyway.
func (s *Supervisor) Sync(want []IfaceRef) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return ErrSupervisorClosed
	}
	wanted := make(map[string]IfaceRef, len(want))
	for _, ref := range want {
		wanted[ref.Name] = ref
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(s.mu.caps)) {
		c := s.mu.caps[name]
		ref, ok := wanted[name]
		why := ""
		switch {
		case !ok:
			why = "no longer wanted"
		case ref.Index != 0 && c.ref.Index != 0 && ref.Index != c.ref.Index:
			why = fmt.Sprintf("interface index changed from %d to %d", c.ref.Index, ref.Index)
		case !c.Running():
			why = "capture ended"
		default:
			continue
		}
		if err := s.stopLocked(name, why); err != nil {
			errs = append(errs, err)
		}
	}
	now := s.opts.Now()
	for _, ref := range want {
		if _, ok := s.mu.caps[ref.Name]; ok {
			continue
		}
		if f, ok := s.mu.failed[ref.Name]; ok && f.index == ref.Index && now.Sub(f.at) < DefaultRetryDelay {
			continue
		}
		c, err := StartLive(s.ctx, ref, s.sink, s.opts)
		if err != nil {
			if f := s.mu.failed[ref.Name]; f.msg != err.Error() {
				s.opts.Logger.Warn("capture: cannot open interface", "iface", ref.Name, "err", err)
			}
			s.mu.failed[ref.Name] = openFailure{index: ref.Index, at: now, msg: err.Error()}
			errs = append(errs, err)
			continue
		}
		delete(s.mu.failed, ref.Name)
		s.mu.caps[ref.Name] = c
		s.opts.Logger.Info("capture started", "iface", ref.Name, "index", ref.Index, "rings", s.opts.Fanout)
	}
	for name := range s.mu.failed {
		if _, ok := wanted[name]; !ok {
			delete(s.mu.failed, name)
		}
	}
	return errors.Join(errs...)
}

// stopLocked stops one capture and keeps its counters.
// REQUIRES: s.mu held.
func (s *Supervisor) stopLocked(name, why string) error {
	c := s.mu.caps[name]
	err := c.Stop()
	st := c.Status()
	st.Running, st.Since, st.OpenFlows, st.OpenStart = false, time.Time{}, 0, 0
	if old := s.mu.retired[name]; old != nil {
		st.addCounters(old)
	}
	s.mu.retired[name] = &st
	s.mu.lastEnd[name] = max(s.mu.lastEnd[name], c.lastEnd())
	delete(s.mu.caps, name)
	s.opts.Logger.Info("capture stopped", "iface", name, "why", why, "packets", st.Packets, "blocks", st.Blocks)
	if err != nil {
		return fmt.Errorf("ingest: stopping capture on %s: %w", name, err)
	}
	return nil
}

// Tick calls LiveCapture.Tick on every capture.
func (s *Supervisor) Tick(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.mu.caps {
		c.Tick(now)
	}
}

// Status returns one LiveStatus per interface captured now or earlier in
// this process, sorted by name.
func (s *Supervisor) Status() []LiveStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LiveStatus, 0, len(s.mu.caps)+len(s.mu.retired))
	for name, c := range s.mu.caps {
		st := c.Status()
		if old := s.mu.retired[name]; old != nil {
			st.addCounters(old)
		}
		out = append(out, st)
	}
	for name, old := range s.mu.retired {
		if _, ok := s.mu.caps[name]; !ok {
			out = append(out, *old)
		}
	}
	slices.SortFunc(out, func(a, b LiveStatus) int { return strings.Compare(a.Iface, b.Iface) })
	return out
}

// Close stops every capture, writing the open blocks, and returns their
// failures. Later calls of Sync fail with ErrSupervisorClosed.
func (s *Supervisor) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.closed {
		return nil
	}
	s.mu.closed = true
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(s.mu.caps)) {
		if err := s.stopLocked(name, "shutdown"); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
