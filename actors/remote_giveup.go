package actors

import (
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
)

// The give-up clock (RemoteConfig.GiveUpAfter): a remote is given up on
// once its outbox has held unacknowledged messages for GiveUpAfter with no
// ack moving it. The wait is counted from when the kernel actor first saw
// the outbox waiting at that ack, and the start is noted in the store
// (kernel.SetRemoteWaiting) once the wait is long enough to matter, so a
// restart of the kernel does not start it afresh: the next start reads
// the note back and goes on counting from it. A kernel restarted more
// often than GiveUpAfter would otherwise never give up on a peer that is
// gone for good.
//
// The note is written once per long wait, not at every tick: when the
// wait reaches a tenth of GiveUpAfter (or one ResendEvery, if that is
// longer), and deleted when an ack moves or the outbox empties. A
// restart loses at most that tenth (the peer gets a little more time,
// never less). Under traffic, where acks move every round trip, nothing
// is written.

// waitMark is since when a remote's outbox has waited at one ack, and
// whether the store holds it.
type waitMark struct {
	acked uint64
	since time.Time
	noted bool
}

// giveUpClock holds the kernel actor's wait marks, one per remote whose
// outbox waits. Only the kernel actor uses it.
type giveUpClock struct {
	marks map[kernel.RemoteID]waitMark
}

// seed reads back the marks an earlier run noted: their waits go on.
func (c *giveUpClock) seed(k *kernel.Kernel) {
	c.marks = map[kernel.RemoteID]waitMark{}
	for _, info := range k.Remotes() {
		if acked, since, ok := k.RemoteWaiting(info.ID); ok {
			c.marks[info.ID] = waitMark{acked: acked, since: since, noted: true}
		}
	}
}

// forget drops remote's wait mark: the kernel deleted the remote
// (kernel.ApplyRefusal), with its note in the store. Its id is never
// reused, so the mark would only have been pruned at the next tick;
// dropping it now keeps the clock exactly the kernel's remotes.
func (c *giveUpClock) forget(remote kernel.RemoteID) { delete(c.marks, remote) }

// noteAfter is how long a wait lasts before its start is written down.
func noteAfter(cfg RemoteConfig) time.Duration {
	return max(cfg.GiveUpAfter/10, cfg.ResendEvery)
}

// overdue returns the remotes that have waited GiveUpAfter by now, and
// notes or clears wait marks in the store as they start to matter or
// end, through the kernel actor's host units.
func (ka *kernelActor) overdue(now time.Time) []kernel.RemoteID {
	cfg, c := ka.rem.cfg, &ka.rem.wait
	if cfg.GiveUpAfter <= 0 {
		return nil
	}
	// note writes (or, with a zero since, deletes) a remote's mark. A
	// failure is logged and the mark kept in memory: the wait goes on
	// being counted in this run, and the next tick tries again.
	note := func(r kernel.RemoteID, m waitMark) bool {
		out, err := ka.k.SetRemoteWaiting(ka.ctx, r, m.acked, m.since)
		ka.release(out)
		if err != nil {
			ka.log.Error().Str("remote", string(r)).Err(err).Msg("noting a peer kernel's wait failed")
			return false
		}
		return true
	}
	var due []kernel.RemoteID
	seen := map[kernel.RemoteID]bool{}
	for _, info := range ka.k.Remotes() {
		if info.GivenUp {
			continue // giving up deleted its note
		}
		m, ok := c.marks[info.ID]
		if info.Pending == 0 {
			if ok && m.noted {
				note(info.ID, waitMark{})
			}
			continue
		}
		seen[info.ID] = true
		if !ok || m.acked != info.Acked {
			// Waiting from now: the first sight, or the peer acked
			// something since (alive, only slow). A note of the old
			// wait is replaced when the new one matters.
			if ok && m.noted {
				note(info.ID, waitMark{})
			}
			c.marks[info.ID] = waitMark{acked: info.Acked, since: now}
			continue
		}
		wait := now.Sub(m.since)
		if wait >= cfg.GiveUpAfter {
			due = append(due, info.ID)
			continue
		}
		if !m.noted && wait >= noteAfter(cfg) {
			// INVARIANT: a wait long enough to matter is in the store
			// before it can be lost to a restart.
			m.noted = note(info.ID, m)
			c.marks[info.ID] = m
		}
	}
	for id := range c.marks {
		if !seen[id] {
			delete(c.marks, id)
		}
	}
	return due
}
