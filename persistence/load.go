package persistence

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// loadInto reads every table into s's committed view and rebuilds the
// derived tables. It runs at Open, and into a scratch store for Verify.
//
// A row that cannot be loaded into its Go type (a value of the wrong
// type, a negative count or sequence number, a list column that is not a
// JSON list of strings, a counter in meta that is not a number) fails the
// load with ErrCorrupt, naming the file, the table, the row's key and the
// column: the kernel must not start on a state it cannot read, and a row
// silently skipped would be lost. A row that loads but does not make
// sense (a kref that does not parse, an unknown state or kind, a config
// that is not JSON) is the auditor's business (kernel.Audit), since only
// the kernel knows what the values mean.
func (b *sqliteBackend) loadInto(ctx context.Context, s *Store) error {
	conn := b.conn
	steps := []struct {
		name string
		keys int // how many leading columns form the row's key, for errors
		sql  string
		row  func(scan func(...any) error) error
	}{
		{"meta", 1, "SELECT key, value FROM meta", func(scan func(...any) error) error {
			var k, v string
			if err := scan(&k, &v); err != nil {
				return err
			}
			// INVARIANT: every counter NextID hands out is a number, so
			// PeekID never meets one that is not.
			if strings.HasPrefix(k, MetaCounterPrefix) {
				if _, err := strconv.ParseUint(v, 10, 64); err != nil {
					return fmt.Errorf("column value: counter %q holds %q, not a number", k, v)
				}
			}
			s.meta.loadBase(k, v)
			return nil
		}},
		{"subclusters", 1, "SELECT subcluster_id, bootstrap, config, bootstrap_kpid FROM subclusters", func(scan func(...any) error) error {
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
		{"vats", 1, "SELECT vat_id, name, subcluster_id, config, state, incarnation, next_object, next_promise, restarts FROM vats", func(scan func(...any) error) error {
			var k, state, restarts string
			var r VatRow
			var no, np int64
			if err := scan(&k, &r.Name, &r.Subcluster, &r.Config, &state, &r.Incarnation, &no, &np, &restarts); err != nil {
				return err
			}
			var err error
			if r.Restarts, err = decodeTimes(restarts); err != nil {
				return fmt.Errorf("column restarts: %w", err)
			}
			if r.NextObject, err = count("next_object", no); err != nil {
				return err
			}
			if r.NextPromise, err = count("next_promise", np); err != nil {
				return err
			}
			r.State = VatState(state)
			s.vats.loadBase(k, r)
			return nil
		}},
		{"objects", 1, "SELECT kref, owner, revoked, reachable, recognizable, pins FROM objects", func(scan func(...any) error) error {
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
		{"promises", 1, "SELECT kref, state, decider, decider_incarnation, settled_by_kernel, subscribers, host_subscribed, value_body, value_slots, refcount, queue_head, queue_tail FROM promises", func(scan func(...any) error) error {
			var k, state, subs string
			var decider, body, slots sql.NullString
			var host, byKernel, qh, qt int64
			var r PromiseRow
			if err := scan(&k, &state, &decider, &r.DeciderIncarnation, &byKernel, &subs, &host, &body, &slots, &r.RefCount, &qh, &qt); err != nil {
				return err
			}
			var err error
			if r.Subscribers, err = decodeList(subs); err != nil {
				return fmt.Errorf("column subscribers: %w", err)
			}
			r.State, r.Decider, r.HostSubscribed, r.SettledByKernel = PromiseState(state), fromNull(decider), host != 0, byKernel != 0
			if r.QueueHead, err = count("queue_head", qh); err != nil {
				return err
			}
			if r.QueueTail, err = count("queue_tail", qt); err != nil {
				return err
			}
			if r.State != PromiseUnresolved {
				r.Value.Body = fromNull(body)
				if r.Value.Slots, err = decodeList(fromNull(slots)); err != nil {
					return fmt.Errorf("column value_slots: %w", err)
				}
			}
			s.promises.loadBase(k, r)
			return nil
		}},
		{"promise_queue", 2, "SELECT kpid, seq, body, slots, result FROM promise_queue", func(scan func(...any) error) error {
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
				return fmt.Errorf("column slots: %w", err)
			}
			if k.Seq, err = count("seq", seq); err != nil {
				return err
			}
			m.Result = fromNull(result)
			s.pqueue.loadBase(k, m)
			return nil
		}},
		{"clist", 2, "SELECT vat_id, kref, vref, reachable FROM clist", func(scan func(...any) error) error {
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
		{"run_queue", 1, "SELECT seq, kind, target, body, slots, result, vat_id, kpid FROM run_queue ORDER BY seq", func(scan func(...any) error) error {
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
				return fmt.Errorf("column slots: %w", err)
			}
			n, err := count("seq", seq)
			if err != nil {
				return err
			}
			s.runQueue.loadBase(n, it)
			return nil
		}},
		{"gc_actions", 3, "SELECT vat_id, kind, kref FROM gc_actions", func(scan func(...any) error) error {
			var k GCActionKey
			var kind string
			if err := scan(&k.Vat, &kind, &k.KRef); err != nil {
				return err
			}
			k.Kind = GCKind(kind)
			s.gcActions.loadBase(k, struct{}{})
			return nil
		}},
		{"reap_queue", 1, "SELECT vat_id, seq FROM reap_queue", func(scan func(...any) error) error {
			var k string
			var seq int64
			if err := scan(&k, &seq); err != nil {
				return err
			}
			n, err := count("seq", seq)
			if err != nil {
				return err
			}
			s.reapQueue.loadBase(k, n)
			return nil
		}},
		{"idempotency", 1, "SELECT key, kpid, digest, seq FROM idempotency", func(scan func(...any) error) error {
			var k string
			var r IdempotencyRow
			var seq int64
			if err := scan(&k, &r.KPID, &r.Digest, &seq); err != nil {
				return err
			}
			var err error
			if r.Seq, err = count("seq", seq); err != nil {
				return err
			}
			s.idempotency.loadBase(k, r)
			return nil
		}},
		{"vatstore", 2, "SELECT vat_id, key, value FROM vatstore", func(scan func(...any) error) error {
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
				key := rowKey(rows, st.keys)
				rows.Close()
				return fmt.Errorf("%w: %s: table %s, row %s: %v", ErrCorrupt, b.describe(), st.name, key, err)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("persistence: load %s: %w", st.name, err)
		}
	}
	deriveIndexes(s)
	if err := deriveCursors(s); err != nil {
		return fmt.Errorf("%w: %s: table run_queue: %v", ErrCorrupt, b.describe(), err)
	}
	return nil
}

// checkFailures names the rows behind quick_check's "CHECK constraint
// failed in T" lines, which name only the table: for each such table it
// reads the CHECK clauses from the table's own CREATE statement (so a
// later migration's CHECKs are covered too) and lists the keys of up to
// three rows that break each. It returns "" when it finds nothing more.
func (b *sqliteBackend) checkFailures(ctx context.Context, problems []string) string {
	var parts []string
	seen := map[string]bool{}
	for _, line := range problems {
		table, ok := strings.CutPrefix(line, "CHECK constraint failed in ")
		if !ok || seen[table] {
			continue
		}
		seen[table] = true
		var create string
		if err := b.conn.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&create); err != nil {
			continue
		}
		keys, err := b.keyColumns(ctx, table)
		if err != nil || len(keys) == 0 {
			continue
		}
		for _, check := range checkClauses(create) {
			q := fmt.Sprintf(`SELECT %s FROM "%s" WHERE NOT (%s) LIMIT 3`, strings.Join(keys, ", "), table, check)
			rows, err := b.conn.QueryContext(ctx, q)
			if err != nil {
				continue
			}
			for rows.Next() {
				parts = append(parts, fmt.Sprintf("table %s, row %s breaks CHECK (%s)", table, rowKey(rows, len(keys)), check))
			}
			rows.Close()
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// keyColumns lists a table's primary-key columns, in key order.
func (b *sqliteBackend) keyColumns(ctx context.Context, table string) ([]string, error) {
	rows, err := b.conn.QueryContext(ctx, "SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name string
		var pk int
		if err := rows.Scan(&name, &pk); err != nil {
			return nil, err
		}
		cols = append(cols, `"`+name+`"`)
	}
	return cols, rows.Err()
}

// checkClauses extracts the expressions of the CHECK clauses of a CREATE
// TABLE statement, matching parentheses (the schema's CHECKs hold no
// string with a parenthesis in it).
func checkClauses(create string) []string {
	var out []string
	rest := create
	for {
		i := strings.Index(rest, "CHECK (")
		if i < 0 {
			return out
		}
		rest = rest[i+len("CHECK ("):]
		depth, end := 1, -1
		for j := 0; j < len(rest) && end < 0; j++ {
			switch rest[j] {
			case '(':
				depth++
			case ')':
				if depth--; depth == 0 {
					end = j
				}
			}
		}
		if end < 0 {
			return out
		}
		out = append(out, strings.TrimSpace(rest[:end]))
		rest = rest[end+1:]
	}
}

// count checks that a count or sequence number read from column col is
// not negative: stored as SQLite's signed integer, it is unsigned in Go,
// and a negative one would turn into a huge number.
func count(col string, v int64) (uint64, error) {
	if v < 0 {
		return 0, fmt.Errorf("column %s: %d is negative", col, v)
	}
	return uint64(v), nil
}

// rowKey describes the key of the row rows is on, from its first n
// columns, for an error about the row: `kpid "kp3", seq 2`. Scanning the
// row again into untyped values cannot fail on a value's type.
func rowKey(rows *sql.Rows, n int) string {
	cols, err := rows.Columns()
	if err != nil || n > len(cols) {
		return "(key unknown)"
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return "(key unknown)"
	}
	parts := make([]string, n)
	for i := range parts {
		switch v := vals[i].(type) {
		case string:
			parts[i] = fmt.Sprintf("%s %q", cols[i], v)
		case []byte:
			parts[i] = fmt.Sprintf("%s %q", cols[i], v)
		default:
			parts[i] = fmt.Sprintf("%s %v", cols[i], v)
		}
	}
	return strings.Join(parts, ", ")
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
		return fmt.Errorf("%d items spread over seq %d..%d, not a contiguous run", n, lo, hi)
	}
	s.cursors.loadBase(cursorRunHead, lo)
	s.cursors.loadBase(cursorRunTail, hi+1)
	return nil
}
