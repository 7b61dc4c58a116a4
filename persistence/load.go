package persistence

import (
	"context"
	"database/sql"
	"fmt"
)

// loadInto reads every table into s's committed view and rebuilds the
// derived tables. It runs at Open, and into a scratch store for Verify.
func (b *sqliteBackend) loadInto(ctx context.Context, s *Store) error {
	conn := b.conn
	steps := []struct {
		name string
		sql  string
		row  func(scan func(...any) error) error
	}{
		{"meta", "SELECT key, value FROM meta", func(scan func(...any) error) error {
			var k, v string
			if err := scan(&k, &v); err != nil {
				return err
			}
			s.meta.loadBase(k, v)
			return nil
		}},
		{"subclusters", "SELECT subcluster_id, bootstrap, config, bootstrap_kpid FROM subclusters", func(scan func(...any) error) error {
			var k string
			var r SubclusterRow
			var bk sql.NullString
			if err := scan(&k, &r.Bootstrap, &r.Config, &bk); err != nil {
				return err
			}
			r.BootstrapKPID = fromNull(bk)
			s.subclusters.loadBase(k, r)
			return nil
		}},
		{"vats", "SELECT vat_id, name, subcluster_id, config, state, incarnation, next_object, next_promise, restarts FROM vats", func(scan func(...any) error) error {
			var k, state, restarts string
			var r VatRow
			var no, np int64
			if err := scan(&k, &r.Name, &r.Subcluster, &r.Config, &state, &r.Incarnation, &no, &np, &restarts); err != nil {
				return err
			}
			var err error
			if r.Restarts, err = decodeTimes(restarts); err != nil {
				return fmt.Errorf("vat %s: restarts: %w", k, err)
			}
			r.State, r.NextObject, r.NextPromise = VatState(state), uint64(no), uint64(np)
			s.vats.loadBase(k, r)
			return nil
		}},
		{"objects", "SELECT kref, owner, revoked, reachable, recognizable, pins FROM objects", func(scan func(...any) error) error {
			var k string
			var owner sql.NullString
			var revoked int64
			var r ObjectRow
			if err := scan(&k, &owner, &revoked, &r.Reachable, &r.Recognizable, &r.Pins); err != nil {
				return err
			}
			r.Owner, r.Revoked = fromNull(owner), revoked != 0
			s.objects.loadBase(k, r)
			return nil
		}},
		{"promises", "SELECT kref, state, decider, decider_incarnation, subscribers, host_subscribed, value_body, value_slots, refcount, queue_head, queue_tail FROM promises", func(scan func(...any) error) error {
			var k, state, subs string
			var decider, body, slots sql.NullString
			var host, qh, qt int64
			var r PromiseRow
			if err := scan(&k, &state, &decider, &r.DeciderIncarnation, &subs, &host, &body, &slots, &r.RefCount, &qh, &qt); err != nil {
				return err
			}
			var err error
			if r.Subscribers, err = decodeList(subs); err != nil {
				return err
			}
			r.State, r.Decider, r.HostSubscribed = PromiseState(state), fromNull(decider), host != 0
			r.QueueHead, r.QueueTail = uint64(qh), uint64(qt)
			if r.State != PromiseUnresolved {
				r.Value.Body = fromNull(body)
				if r.Value.Slots, err = decodeList(fromNull(slots)); err != nil {
					return err
				}
			}
			s.promises.loadBase(k, r)
			return nil
		}},
		{"promise_queue", "SELECT kpid, seq, body, slots, result FROM promise_queue", func(scan func(...any) error) error {
			var k PromiseQueueKey
			var seq int64
			var slots string
			var result sql.NullString
			var m Message
			if err := scan(&k.KPID, &seq, &m.Methargs.Body, &slots, &result); err != nil {
				return err
			}
			var err error
			if m.Methargs.Slots, err = decodeList(slots); err != nil {
				return err
			}
			k.Seq, m.Result = uint64(seq), fromNull(result)
			s.pqueue.loadBase(k, m)
			return nil
		}},
		{"clist", "SELECT vat_id, kref, vref, reachable FROM clist", func(scan func(...any) error) error {
			var k CListKey
			var r CListRow
			var reach int64
			if err := scan(&k.Vat, &k.KRef, &r.VRef, &reach); err != nil {
				return err
			}
			r.Reachable = reach != 0
			s.clist.loadBase(k, r)
			return nil
		}},
		{"run_queue", "SELECT seq, kind, target, body, slots, result, vat_id, kpid FROM run_queue ORDER BY seq", func(scan func(...any) error) error {
			var seq int64
			var kind string
			var target, body, slots, result, vat, kpid sql.NullString
			if err := scan(&seq, &kind, &target, &body, &slots, &result, &vat, &kpid); err != nil {
				return err
			}
			it := QueueItem{Kind: QueueKind(kind), Target: fromNull(target), Vat: fromNull(vat), KPID: fromNull(kpid)}
			it.Message.Methargs.Body, it.Message.Result = fromNull(body), fromNull(result)
			var err error
			if it.Message.Methargs.Slots, err = decodeList(fromNull(slots)); err != nil {
				return err
			}
			s.runQueue.loadBase(uint64(seq), it)
			return nil
		}},
		{"gc_actions", "SELECT vat_id, kind, kref FROM gc_actions", func(scan func(...any) error) error {
			var k GCActionKey
			var kind string
			if err := scan(&k.Vat, &kind, &k.KRef); err != nil {
				return err
			}
			k.Kind = GCKind(kind)
			s.gcActions.loadBase(k, struct{}{})
			return nil
		}},
		{"reap_queue", "SELECT vat_id, seq FROM reap_queue", func(scan func(...any) error) error {
			var k string
			var seq int64
			if err := scan(&k, &seq); err != nil {
				return err
			}
			s.reapQueue.loadBase(k, uint64(seq))
			return nil
		}},
		{"vatstore", "SELECT vat_id, key, value FROM vatstore", func(scan func(...any) error) error {
			var vat, k, v string
			if err := scan(&vat, &k, &v); err != nil {
				return err
			}
			s.vatstore.loadBase(vat, k, v)
			return nil
		}},
	}
	// One read transaction: every table from the same snapshot, even
	// while a kernel writes the file (a read-only open beside it).
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("persistence: load: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	for _, st := range steps {
		rows, err := conn.QueryContext(ctx, st.sql)
		if err != nil {
			return fmt.Errorf("persistence: load %s: %w", st.name, err)
		}
		for rows.Next() {
			if err := st.row(rows.Scan); err != nil {
				rows.Close()
				return fmt.Errorf("%w: load %s: %v", ErrCorrupt, st.name, err)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("persistence: load %s: %w", st.name, err)
		}
	}
	deriveIndexes(s)
	return deriveCursors(s)
}

// deriveIndexes rebuilds the derived c-list tables from the c-list.
func deriveIndexes(s *Store) {
	for k, r := range s.clist.base {
		s.byVRef.loadBase(VRefKey{k.Vat, r.VRef}, k.KRef)
		s.holders.loadBase(k, struct{}{})
	}
}

// deriveCursors sets the run queue's head and tail from its rows, which
// must be a contiguous run of sequence numbers.
func deriveCursors(s *Store) error {
	n := len(s.runQueue.base)
	if n == 0 {
		return nil
	}
	lo, hi := ^uint64(0), uint64(0)
	for seq := range s.runQueue.base {
		lo, hi = min(lo, seq), max(hi, seq)
	}
	if hi-lo+1 != uint64(n) {
		return fmt.Errorf("%w: run queue has %d items spread over seq %d..%d", ErrCorrupt, n, lo, hi)
	}
	s.cursors.loadBase(cursorRunHead, lo)
	s.cursors.loadBase(cursorRunTail, hi+1)
	return nil
}
