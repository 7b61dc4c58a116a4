package console

import "sync"

// Subscription is one event stream's place at the hub. Its channel holds
// one snapshot: the hub replaces an unread one with the newer, so a slow
// reader sees fewer snapshots, never older ones, and never makes the hub
// wait.
type Subscription struct {
	h  *Hub
	ch chan *Snapshot
	// gone is closed when the subscription ends (Close, or the hub's).
	gone chan struct{}
	once sync.Once

	mu struct {
		sync.Mutex
		missed uint64
	}
}

// Subscribe opens a subscription; Close it when the stream ends. It
// fails with ErrTooManyStreams past Options.MaxStreams, and ErrClosed
// once the hub is closed.
func (h *Hub) Subscribe() (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mu.closed {
		return nil, ErrClosed
	}
	if len(h.mu.subs) >= h.opts.MaxStreams {
		return nil, ErrTooManyStreams
	}
	sub := &Subscription{h: h, ch: make(chan *Snapshot, 1), gone: make(chan struct{})}
	h.mu.subs[sub] = struct{}{}
	return sub, nil
}

// Snapshots delivers the newest snapshot not yet taken.
func (s *Subscription) Snapshots() <-chan *Snapshot { return s.ch }

// Gone is closed when the subscription has ended.
func (s *Subscription) Gone() <-chan struct{} { return s.gone }

// Missed counts the snapshots replaced before they were read.
func (s *Subscription) Missed() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.missed
}

// Close leaves the hub. It may be called more than once.
func (s *Subscription) Close() {
	s.h.mu.Lock()
	delete(s.h.mu.subs, s)
	s.h.mu.Unlock()
	s.end()
}

// end marks the subscription ended.
func (s *Subscription) end() { s.once.Do(func() { close(s.gone) }) }

// offer puts snap in the channel, replacing an unread snapshot. Called
// by the hub with h.mu held, from its one publishing goroutine, so no
// other sender races it: after the drain the send always succeeds.
//
// INVARIANT: offer never blocks; a reader that takes nothing costs the
// hub one replaced pointer per snapshot.
func (s *Subscription) offer(snap *Snapshot) {
	select {
	case s.ch <- snap:
		return
	default:
	}
	select {
	case <-s.ch:
		s.mu.Lock()
		s.mu.missed++
		s.mu.Unlock()
	default: // the reader took it meanwhile
	}
	select {
	case s.ch <- snap:
	default:
	}
}
