package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ocapgo/kernel-actors/persistence"
)

// maxBatch is the most rows one statement writes. A flush writes each
// table's changes as a few multi-row statements rather than one statement
// per row: that is what makes a crank's commit cost close to a bare SQLite
// transaction of the same rows (see doc.go).
const maxBatch = 64

// Flush writes the dirty rows of t and events in one SQLite transaction
// (Backend.Flush).
func (b *sqliteBackend) Flush(ctx context.Context, t *persistence.Tables, events []persistence.VatEvent) (rows int, err error) {
	if err := b.opts.Fault(persistence.FaultBeforeBegin); err != nil {
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
	w := &batchWriter{ctx: ctx, conn: b.conn, cache: &b.stmts, trace: b.opts.Trace}

	// Deletes first, so that an upsert never collides with a row whose
	// deletion is in the same flush (c-list vrefs are UNIQUE per vat).
	for _, c := range codecs {
		c.deletes(w, t)
	}
	for _, c := range codecs {
		c.upserts(w, t)
	}
	w.batches(persistence.OpInsert, "vat_events", []string{"vat_id", "incarnation", "event", "reason", "at_crank"}, len(events), func(i int) []any {
		e := events[i]
		return []any{e.Vat, e.Incarnation, e.Event, e.Reason, int64(e.AtCrank)}
	})
	if w.err != nil {
		return 0, w.err
	}
	if err := b.opts.Fault(persistence.FaultBeforeCommit); err != nil {
		return 0, err
	}
	if _, err := b.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return 0, err
	}
	committed = true
	if err := b.opts.Fault(persistence.FaultAfterCommit); err != nil {
		return 0, err
	}
	return w.rows, nil
}

// batchWriter issues a flush's statements, stopping at the first error.
type batchWriter struct {
	ctx   context.Context
	conn  *sql.Conn
	cache *stmtCache
	trace func(persistence.Statement)
	rows  int
	err   error
}

// batches writes n rows of table, maxBatch to a statement, stopping at
// the first error.
func (w *batchWriter) batches(op persistence.StatementOp, table string, cols []string, n int, args func(int) []any) {
	for start := 0; start < n && w.err == nil; start += maxBatch {
		end := min(start+maxBatch, n)
		rows := end - start
		key := stmtKey{op: op, table: table, rows: rows}
		stmt, err := w.cache.get(w.ctx, w.conn, key, func() string {
			return persistence.Statement{Op: op, Table: table, Cols: cols, Rows: rows}.SQL()
		})
		if err != nil {
			w.err = err
			return
		}
		flat := make([]any, 0, rows*len(cols))
		for i := start; i < end; i++ {
			flat = append(flat, args(i)...)
		}
		if w.trace != nil {
			w.trace(persistence.Statement{Op: op, Table: table, Cols: cols, Rows: rows, Args: flat})
		}
		if _, err := stmt.ExecContext(w.ctx, flat...); err != nil {
			w.err = fmt.Errorf("%s %s: %w", op, table, err)
			return
		}
		w.rows += rows
	}
}

// stmtKey names one prepared statement: an operation on a table, for a
// given number of rows.
type stmtKey struct {
	op    persistence.StatementOp
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
