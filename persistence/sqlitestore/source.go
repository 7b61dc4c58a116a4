package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/ocapgo/kernel-actors/persistence"
)

// pagedTables are the tables a writable file store reads on demand
// (persistence.Table.Page) rather than loads whole at open: the ones
// that grow with the kernel's work. Each lists its partitionings' columns,
// in the order persistence made the table's partitionings. The c-list's
// by-vref index is paged with the c-list (vrefSource).
//
// A store opened read-only loads every table whole: it is a snapshot, and
// reading a paged row later would read past it.
var pagedTables = map[string][]string{
	"objects":       nil,
	"promises":      nil,
	"promise_queue": nil,
	"clist":         {"vat_id", "kref"},
	"run_queue":     nil,
	"vatstore":      {"vat_id"},
}

// residentTables lists the tables a writable open loads whole (and so
// quick_checks): every table of codecs that pagedTables does not name.
func residentTables() []string {
	var out []string
	for _, c := range codecs {
		if _, paged := pagedTables[c.name()]; !paged {
			out = append(out, c.name())
		}
	}
	return out
}

// rowSource is the persistence.Source of one paged table: prepared
// point reads, partition listings and counts against the file.
//
// A row that does not decode fails the read with ErrCorrupt, naming the
// file, the table, the row's key and the column, as a row that does not
// load at open does: the store then fails for good, and the unit that
// read it is rolled back.
type rowSource[K comparable, V any] struct {
	b     *sqliteBackend
	c     *tableCodec[K, V]
	parts []string // the column of each partitioning
	get   *sql.Stmt
	count *sql.Stmt
	part  []*sql.Stmt
}

func newRowSource[K comparable, V any](ctx context.Context, b *sqliteBackend, c *tableCodec[K, V], parts []string) (*rowSource[K, V], error) {
	s := &rowSource[K, V]{b: b, c: c, parts: parts}
	where := make([]string, c.nkeys)
	for i, col := range c.cols[:c.nkeys] {
		where[i] = col + " = ?"
	}
	var err error
	if s.get, err = b.prepare(ctx, c.selectSQL()+" WHERE "+strings.Join(where, " AND ")); err != nil {
		return nil, err
	}
	if s.count, err = b.prepare(ctx, "SELECT count(*) FROM "+c.table); err != nil {
		return nil, err
	}
	for _, col := range parts {
		st, err := b.prepare(ctx, c.selectSQL()+" WHERE "+col+" = ?")
		if err != nil {
			return nil, err
		}
		s.part = append(s.part, st)
	}
	return s, nil
}

// Get implements persistence.Source.
func (s *rowSource[K, V]) Get(k K) (V, bool, error) {
	var v V
	found := false
	err := s.scan(s.get, s.c.key(k), func(_ K, row V) { v, found = row, true })
	return v, found, err
}

// Keys implements persistence.Source.
func (s *rowSource[K, V]) Keys() ([]K, error) {
	rows, err := s.b.conn.QueryContext(context.Background(), s.c.selectSQL())
	if err != nil {
		return nil, s.b.readErr(s.c.table, err)
	}
	var out []K
	err = s.each(rows, func(k K, _ V) { out = append(out, k) })
	return out, err
}

// Part implements persistence.Source.
func (s *rowSource[K, V]) Part(i int, p string) ([]K, error) {
	if i < 0 || i >= len(s.part) {
		return nil, fmt.Errorf("table %s has no partitioning %d", s.c.table, i)
	}
	var out []K
	err := s.scan(s.part[i], []any{p}, func(k K, _ V) { out = append(out, k) })
	return out, err
}

// Count implements persistence.Source.
func (s *rowSource[K, V]) Count() (int, error) {
	var n int
	if err := s.count.QueryRowContext(context.Background()).Scan(&n); err != nil {
		return 0, s.b.readErr(s.c.table, err)
	}
	return n, nil
}

// SeqRange implements persistence.SeqRange for the run queue.
func (s *rowSource[K, V]) SeqRange() (lo, hi uint64, n int, err error) {
	var l, h sql.NullInt64
	q := "SELECT min(seq), max(seq), count(*) FROM " + s.c.table
	if err := s.b.conn.QueryRowContext(context.Background(), q).Scan(&l, &h, &n); err != nil {
		return 0, 0, 0, s.b.readErr(s.c.table, err)
	}
	if n == 0 {
		return 0, 0, 0, nil
	}
	if lo, err = count("seq", l.Int64); err != nil {
		return 0, 0, 0, fmt.Errorf("%w: %s: table %s, row seq %d: %v", persistence.ErrCorrupt, s.b.describe(), s.c.table, l.Int64, err)
	}
	return lo, uint64(h.Int64), n, nil
}

// scan runs st with args and calls fn with each row.
func (s *rowSource[K, V]) scan(st *sql.Stmt, args []any, fn func(K, V)) error {
	rows, err := st.QueryContext(context.Background(), args...)
	if err != nil {
		return s.b.readErr(s.c.table, err)
	}
	return s.each(rows, fn)
}

// each decodes every row of rows, closing it.
func (s *rowSource[K, V]) each(rows *sql.Rows, fn func(K, V)) error {
	defer rows.Close()
	for rows.Next() {
		k, v, err := s.c.scan(rows.Scan)
		if err == nil && s.c.check != nil {
			err = s.c.check(v)
		}
		if err != nil {
			return fmt.Errorf("%w: %s: table %s, row %s: %v", persistence.ErrCorrupt, s.b.describe(), s.c.table, rowKey(rows, s.c.nkeys), err)
		}
		fn(k, v)
	}
	if err := rows.Err(); err != nil {
		return s.b.readErr(s.c.table, err)
	}
	return nil
}

// vrefSource is the Source of the c-list's by-vref index, paged with the
// c-list: a query on the c-list's UNIQUE (vat_id, vref).
type vrefSource struct {
	b     *sqliteBackend
	get   *sql.Stmt
	count *sql.Stmt
}

func newVRefSource(ctx context.Context, b *sqliteBackend) (*vrefSource, error) {
	s := &vrefSource{b: b}
	var err error
	if s.get, err = b.prepare(ctx, "SELECT kref FROM clist WHERE vat_id = ? AND vref = ?"); err != nil {
		return nil, err
	}
	if s.count, err = b.prepare(ctx, "SELECT count(*) FROM clist"); err != nil {
		return nil, err
	}
	return s, nil
}

// Get implements persistence.Source.
func (s *vrefSource) Get(k persistence.VRefKey) (string, bool, error) {
	var kref string
	err := s.get.QueryRowContext(context.Background(), k.Vat, k.VRef).Scan(&kref)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, s.b.readErr("clist", err)
	}
	return kref, true, nil
}

// Keys implements persistence.Source.
func (s *vrefSource) Keys() ([]persistence.VRefKey, error) {
	rows, err := s.b.conn.QueryContext(context.Background(), "SELECT vat_id, vref FROM clist")
	if err != nil {
		return nil, s.b.readErr("clist", err)
	}
	defer rows.Close()
	var out []persistence.VRefKey
	for rows.Next() {
		var k persistence.VRefKey
		if err := rows.Scan(&k.Vat, &k.VRef); err != nil {
			return nil, s.b.readErr("clist", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Part implements persistence.Source: the index has no partitionings.
func (s *vrefSource) Part(i int, p string) ([]persistence.VRefKey, error) {
	return nil, fmt.Errorf("clist by vref has no partitioning %d", i)
}

// Count implements persistence.Source.
func (s *vrefSource) Count() (int, error) {
	var n int
	if err := s.count.QueryRowContext(context.Background()).Scan(&n); err != nil {
		return 0, s.b.readErr("clist", err)
	}
	return n, nil
}

// readErr describes a failed read of table. SQLite's own word that a page
// is damaged is ErrCorrupt, as at open; anything else is an I/O error.
func (b *sqliteBackend) readErr(table string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB) {
		return fmt.Errorf("%w: %s: read %s: %v", persistence.ErrCorrupt, b.describe(), table, err)
	}
	return fmt.Errorf("%s: read %s: %w", b.describe(), table, err)
}

// prepare makes a statement on the store's connection that lives as long
// as the backend (Close closes it).
func (b *sqliteBackend) prepare(ctx context.Context, q string) (*sql.Stmt, error) {
	st, err := b.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("persistence: %s: prepare %q: %w", b.describe(), q, err)
	}
	b.reads = append(b.reads, st)
	return st, nil
}

// clistSource is the c-list's Source: a rowSource that also lists a vat's
// entries in a range of krefs (on the primary key) or of vrefs (on the
// UNIQUE (vat_id, vref) index), for persistence.CListRanger.
type clistSource struct {
	*rowSource[persistence.CListKey, persistence.CListRow]
	krange, vrange *sql.Stmt
}

var _ persistence.CListRanger = (*clistSource)(nil)

func newCListSource(ctx context.Context, b *sqliteBackend, rs *rowSource[persistence.CListKey, persistence.CListRow]) (*clistSource, error) {
	s := &clistSource{rowSource: rs}
	var err error
	if s.krange, err = b.prepare(ctx, rs.c.selectSQL()+" WHERE vat_id = ? AND kref >= ? AND kref < ?"); err != nil {
		return nil, err
	}
	if s.vrange, err = b.prepare(ctx, rs.c.selectSQL()+" WHERE vat_id = ? AND vref >= ? AND vref < ?"); err != nil {
		return nil, err
	}
	return s, nil
}

// KRefRange implements persistence.CListRanger.
func (s *clistSource) KRefRange(vat, lo, hi string) ([]persistence.CListKey, error) {
	var out []persistence.CListKey
	err := s.scan(s.krange, []any{vat, lo, hi}, func(k persistence.CListKey, _ persistence.CListRow) { out = append(out, k) })
	return out, err
}

// VRefRange implements persistence.CListRanger.
func (s *clistSource) VRefRange(vat, lo, hi string) ([]persistence.CListKey, error) {
	var out []persistence.CListKey
	err := s.scan(s.vrange, []any{vat, lo, hi}, func(k persistence.CListKey, _ persistence.CListRow) { out = append(out, k) })
	return out, err
}

// vatstoreSource is the vatstore's Source: a rowSource partitioned by vat
// that also seeks a vat's next key on the primary key (vat_id, key).
type vatstoreSource struct {
	*rowSource[persistence.VatstoreKey, string]
	next, vats *sql.Stmt
}

var _ persistence.VatstoreSource = (*vatstoreSource)(nil)

func newVatstoreSource(ctx context.Context, b *sqliteBackend, rs *rowSource[persistence.VatstoreKey, string]) (*vatstoreSource, error) {
	s := &vatstoreSource{rowSource: rs}
	var err error
	if s.next, err = b.prepare(ctx, "SELECT key FROM vatstore WHERE vat_id = ? AND key > ? ORDER BY key LIMIT 1"); err != nil {
		return nil, err
	}
	if s.vats, err = b.prepare(ctx, "SELECT DISTINCT vat_id FROM vatstore"); err != nil {
		return nil, err
	}
	return s, nil
}

// NextKey implements persistence.VatstoreSource.
func (s *vatstoreSource) NextKey(vat, prior string) (string, bool, error) {
	var k string
	err := s.next.QueryRowContext(context.Background(), vat, prior).Scan(&k)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, s.b.readErr("vatstore", err)
	}
	return k, true, nil
}

// Vats implements persistence.VatstoreSource.
func (s *vatstoreSource) Vats() ([]string, error) {
	rows, err := s.vats.QueryContext(context.Background())
	if err != nil {
		return nil, s.b.readErr("vatstore", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, s.b.readErr("vatstore", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
