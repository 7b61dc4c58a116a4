package persistence

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// maxBatch is the most rows one statement writes. A flush writes each
// table's changes as a few multi-row statements rather than one statement
// per row: that is what makes a crank's commit cost close to a bare SQLite
// transaction of the same rows (see doc.go).
const maxBatch = 64

// Flush writes every committed, unflushed unit to SQLite in one
// transaction. If it fails, the store is failed for good: memory is ahead
// of the file, and only reopening (which reloads the file) is safe.
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
	rows, err := s.be.flush(ctx, s)
	if err != nil {
		s.failed = fmt.Errorf("%w: flush to %s: %v", ErrFailed, s.describe(), err)
		return s.failed
	}
	s.clearDirty()
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

// fault calls Options.Faults at commit boundary p. The three calls in a
// flush are the crash points that crash tests kill the process at: before
// BEGIN, between the last statement and COMMIT, and after COMMIT but
// before Flush marks the rows flushed and its caller releases outputs.
func (o *Options) fault(p FaultPoint) error {
	if o.Faults == nil {
		return nil
	}
	return o.Faults.Fault(p)
}

// flush writes the dirty rows of s in one SQLite transaction.
func (b *sqliteBackend) flush(ctx context.Context, s *Store) (rows int, err error) {
	if err := s.opts.fault(FaultBeforeBegin); err != nil {
		return 0, err
	}
	if _, err := b.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return 0, err
	}
	committed := false
	defer func() {
		if !committed {
			b.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	w := &batchWriter{ctx: ctx, conn: b.conn, cache: &b.stmts, trace: s.opts.Trace}

	// Deletes first, so that an upsert never collides with a row whose
	// deletion is in the same flush (c-list vrefs are UNIQUE per vat).
	deletes(w, s.meta, "meta", []string{"key"}, func(k string) []any { return []any{k} })
	deletes(w, s.subclusters, "subclusters", []string{"subcluster_id"}, func(k string) []any { return []any{k} })
	deletes(w, s.vats, "vats", []string{"vat_id"}, func(k string) []any { return []any{k} })
	deletes(w, s.objects, "objects", []string{"kref"}, func(k string) []any { return []any{k} })
	deletes(w, s.promises, "promises", []string{"kref"}, func(k string) []any { return []any{k} })
	deletes(w, s.pqueue, "promise_queue", []string{"kpid", "seq"}, func(k PromiseQueueKey) []any { return []any{k.KPID, int64(k.Seq)} })
	deletes(w, s.clist, "clist", []string{"vat_id", "kref"}, func(k CListKey) []any { return []any{k.Vat, k.KRef} })
	deletes(w, s.runQueue, "run_queue", []string{"seq"}, func(k uint64) []any { return []any{int64(k)} })
	deletes(w, s.gcActions, "gc_actions", []string{"vat_id", "kind", "kref"}, func(k GCActionKey) []any { return []any{k.Vat, string(k.Kind), k.KRef} })
	deletes(w, s.reapQueue, "reap_queue", []string{"vat_id"}, func(k string) []any { return []any{k} })
	deletes(w, s.idempotency, "idempotency", []string{"key"}, func(k string) []any { return []any{k} })
	vsUp, vsDel := s.vatstore.dirtyKeys()
	w.deleteKeys("vatstore", []string{"vat_id", "key"}, len(vsDel), func(i int) []any { return []any{vsDel[i].Vat, vsDel[i].Key} })

	upserts(w, s.meta, "meta", []string{"key", "value"}, func(k, v string) []any { return []any{k, v} })
	upserts(w, s.subclusters, "subclusters", []string{"subcluster_id", "bootstrap", "config", "bootstrap_kpid"},
		func(k string, r SubclusterRow) []any {
			return []any{k, r.Bootstrap, r.Config, nullString(r.BootstrapKPID)}
		})
	upserts(w, s.vats, "vats", []string{"vat_id", "name", "subcluster_id", "config", "state", "incarnation", "next_object", "next_promise", "restarts"},
		func(k string, r VatRow) []any {
			return []any{k, r.Name, r.Subcluster, r.Config, string(r.State), r.Incarnation, int64(r.NextObject), int64(r.NextPromise), encodeTimes(r.Restarts)}
		})
	upserts(w, s.objects, "objects", []string{"kref", "owner", "revoked", "reachable", "recognizable", "pins"},
		func(k string, r ObjectRow) []any {
			return []any{k, nullString(r.Owner), boolInt(r.Revoked), r.Reachable, r.Recognizable, r.Pins}
		})
	upserts(w, s.promises, "promises", []string{"kref", "state", "decider", "decider_incarnation", "settled_by_kernel", "subscribers", "host_subscribed", "value_body", "value_slots", "refcount", "queue_head", "queue_tail"},
		func(k string, r PromiseRow) []any {
			var body, slots any
			if r.State != PromiseUnresolved {
				body, slots = r.Value.Body, encodeList(r.Value.Slots)
			}
			return []any{k, string(r.State), nullString(r.Decider), r.DeciderIncarnation, boolInt(r.SettledByKernel), encodeList(r.Subscribers), boolInt(r.HostSubscribed),
				body, slots, r.RefCount, int64(r.QueueHead), int64(r.QueueTail)}
		})
	upserts(w, s.pqueue, "promise_queue", []string{"kpid", "seq", "body", "slots", "result"},
		func(k PromiseQueueKey, m Message) []any {
			return []any{k.KPID, int64(k.Seq), m.Methargs.Body, encodeList(m.Methargs.Slots), nullString(m.Result)}
		})
	upserts(w, s.clist, "clist", []string{"vat_id", "kref", "vref", "reachable"},
		func(k CListKey, r CListRow) []any { return []any{k.Vat, k.KRef, r.VRef, boolInt(r.Reachable)} })
	upserts(w, s.runQueue, "run_queue", []string{"seq", "kind", "target", "body", "slots", "result", "vat_id", "kpid"},
		func(k uint64, it QueueItem) []any {
			if it.Kind == QueueSend {
				return []any{int64(k), string(it.Kind), it.Target, it.Message.Methargs.Body,
					encodeList(it.Message.Methargs.Slots), nullString(it.Message.Result), nil, nil}
			}
			return []any{int64(k), string(it.Kind), nil, nil, nil, nil, it.Vat, it.KPID}
		})
	upserts(w, s.gcActions, "gc_actions", []string{"vat_id", "kind", "kref"},
		func(k GCActionKey, _ struct{}) []any { return []any{k.Vat, string(k.Kind), k.KRef} })
	upserts(w, s.reapQueue, "reap_queue", []string{"vat_id", "seq"},
		func(k string, seq uint64) []any { return []any{k, int64(seq)} })
	upserts(w, s.idempotency, "idempotency", []string{"key", "kpid", "digest", "seq"},
		func(k string, r IdempotencyRow) []any { return []any{k, r.KPID, r.Digest, int64(r.Seq)} })
	w.upsertKeys("vatstore", []string{"vat_id", "key", "value"}, len(vsUp), func(i int) []any {
		v, _ := s.vatstore.baseGet(vsUp[i].Vat, vsUp[i].Key)
		return []any{vsUp[i].Vat, vsUp[i].Key, v}
	})
	events := s.eventsOut
	w.insertKeys("vat_events", []string{"vat_id", "incarnation", "event", "reason", "at_crank"}, len(events), func(i int) []any {
		e := events[i]
		return []any{e.Vat, e.Incarnation, e.Event, e.Reason, int64(e.AtCrank)}
	})
	if w.err != nil {
		return 0, w.err
	}
	if err := s.opts.fault(FaultBeforeCommit); err != nil {
		return 0, err
	}
	if _, err := b.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, err
	}
	committed = true
	if err := s.opts.fault(FaultAfterCommit); err != nil {
		return 0, err
	}
	return w.rows, nil
}

// batchWriter issues a flush's statements, stopping at the first error.
type batchWriter struct {
	ctx   context.Context
	conn  *sql.Conn
	cache *stmtCache
	trace func(Statement)
	rows  int
	err   error
}

func deletes[K comparable, V any](w *batchWriter, t *table[K, V], name string, keyCols []string, key func(K) []any) {
	_, del := t.dirtyKeys()
	w.deleteKeys(name, keyCols, len(del), func(i int) []any { return key(del[i]) })
}

func upserts[K comparable, V any](w *batchWriter, t *table[K, V], name string, cols []string, row func(K, V) []any) {
	up, _ := t.dirtyKeys()
	w.upsertKeys(name, cols, len(up), func(i int) []any { return row(up[i], t.base[up[i]]) })
}

// deleteKeys deletes n rows by key, maxBatch at a time.
func (w *batchWriter) deleteKeys(table string, keyCols []string, n int, key func(int) []any) {
	w.batches(OpDelete, table, keyCols, n, key)
}

// upsertKeys writes n whole rows, maxBatch at a time.
func (w *batchWriter) upsertKeys(table string, cols []string, n int, row func(int) []any) {
	w.batches(OpUpsert, table, cols, n, row)
}

// insertKeys appends n rows to a log table, maxBatch at a time.
func (w *batchWriter) insertKeys(table string, cols []string, n int, row func(int) []any) {
	w.batches(OpInsert, table, cols, n, row)
}

// statementSQL builds the SQL of a batched statement for rows rows.
func statementSQL(op StatementOp, table string, cols []string, rows int) string {
	switch op {
	case OpDelete:
		if len(cols) == 1 {
			return fmt.Sprintf("DELETE FROM %s WHERE %s IN (%s)", table, cols[0], inList(rows))
		}
		// The VALUES list goes inside a SELECT: SQLite plans
		// "(a, b) IN (VALUES ...)" as a scan of the whole table per
		// statement, but "(a, b) IN (SELECT ... FROM (VALUES ...))" as one
		// primary-key search per row.
		return fmt.Sprintf("DELETE FROM %s WHERE (%s) IN (SELECT %s FROM (VALUES %s))", table, joinCols(cols), valueCols(len(cols)), placeholders(rows, len(cols)))
	case OpUpsert:
		return fmt.Sprintf("INSERT OR REPLACE INTO %s (%s) VALUES %s", table, joinCols(cols), placeholders(rows, len(cols)))
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES %s", table, joinCols(cols), placeholders(rows, len(cols)))
}

func (w *batchWriter) batches(op StatementOp, table string, cols []string, n int, args func(int) []any) {
	for start := 0; start < n && w.err == nil; start += maxBatch {
		end := min(start+maxBatch, n)
		rows := end - start
		key := stmtKey{op: op, table: table, rows: rows}
		stmt, err := w.cache.get(w.ctx, w.conn, key, func() string { return statementSQL(op, table, cols, rows) })
		if err != nil {
			w.err = err
			return
		}
		flat := make([]any, 0, rows*len(cols))
		for i := start; i < end; i++ {
			flat = append(flat, args(i)...)
		}
		if w.trace != nil {
			w.trace(Statement{Op: op, Table: table, Cols: cols, Rows: rows, Args: flat})
		}
		if _, err := stmt.ExecContext(w.ctx, flat...); err != nil {
			w.err = fmt.Errorf("%s %s: %w", op, table, err)
			return
		}
		w.rows += rows
	}
}

// StatementOp is the kind of a flush statement.
type StatementOp string

// Flush statement kinds.
const (
	OpDelete StatementOp = "delete"
	OpUpsert StatementOp = "upsert"
	OpInsert StatementOp = "insert"
)

// Statement describes one statement of a flush, as Options.Trace sees it:
// Rows rows of len(Cols) values each (key columns only for a delete).
type Statement struct {
	Op    StatementOp
	Table string
	Cols  []string
	Rows  int
	Args  []any
}

// SQL is the statement's text.
func (s Statement) SQL() string { return statementSQL(s.Op, s.Table, s.Cols, s.Rows) }

func inList(n int) string {
	b := make([]byte, 0, 2*n)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '?')
	}
	return string(b)
}

// valueCols names the n columns of a VALUES list: column1, column2, ...
func valueCols(n int) string {
	out := ""
	for i := 1; i <= n; i++ {
		if i > 1 {
			out += ", "
		}
		out += "column" + strconv.Itoa(i)
	}
	return out
}

func joinCols(cols []string) string {
	out := ""
	for i, c := range cols {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}

// stmtKey names one prepared statement: an operation on a table, for a
// given number of rows.
type stmtKey struct {
	op    StatementOp
	table string
	rows  int
}

// stmtCache keeps the statements a flush prepares, for the store's life.
type stmtCache struct {
	m map[stmtKey]*sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, conn *sql.Conn, k stmtKey, sqlText func() string) (*sql.Stmt, error) {
	if st, ok := c.m[k]; ok {
		return st, nil
	}
	st, err := conn.PrepareContext(ctx, sqlText())
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = make(map[stmtKey]*sql.Stmt)
	}
	c.m[k] = st
	return st, nil
}

func (c *stmtCache) close() {
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}
