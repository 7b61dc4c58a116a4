package persistence

import (
	"context"
	"fmt"
)

// Flush writes every committed, unflushed unit to the backend in one
// atomic step (one SQLite transaction). If it fails, the store is failed
// for good: memory is ahead of the file, and only reopening (which reloads
// the file) is safe.
func (s *Store) Flush(ctx context.Context) error {
	if err := s.Err(); err != nil {
		return err
	}
	if s.open {
		panic("persistence: Flush with a unit open")
	}
	if s.unflushed == 0 {
		return nil
	}
	rows, err := s.be.Flush(ctx, &s.tabs, s.eventsOut)
	if err != nil {
		s.failed = fmt.Errorf("%w: flush to %s: %v", ErrFailed, s.describe(), err)
		return s.failed
	}
	s.clearDirty()
	s.noteFlushed()
	s.eventsOut = s.eventsOut[:0]
	s.unflushed = 0
	s.stats.Flushes++
	s.stats.Rows += uint64(rows)
	return nil
}

func (s *Store) clearDirty() {
	for _, t := range s.foldables() {
		t.clearDirty()
	}
}

// Fault calls Options.Faults at commit boundary p; a backend's flush calls
// it at each of the three boundaries, in order. They are the crash points
// that crash tests kill the process at: before BEGIN, between the last
// statement and COMMIT, and after COMMIT but before Flush marks the rows
// flushed and its caller releases outputs.
func (o *Options) Fault(p FaultPoint) error {
	if o.Faults == nil {
		return nil
	}
	return o.Faults.Fault(p)
}
