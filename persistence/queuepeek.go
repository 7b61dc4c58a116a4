package persistence

// QueuePeek lists the first n run-queue items in order, without copying
// the rest: a live view's glance at what runs next, whose cost does not
// grow with the queue (QueueItems lists it whole, for inspection and
// audit).
func (s *Store) QueuePeek(n int) []QueueItem {
	head, tail := s.cursor(cursorRunHead), s.cursor(cursorRunTail)
	if n <= 0 || head >= tail {
		return nil
	}
	end := min(tail, head+uint64(n))
	out := make([]QueueItem, 0, end-head)
	for seq := head; seq < end; seq++ {
		it, _ := s.tabs.RunQueue.get(seq)
		out = append(out, it)
	}
	return out
}
