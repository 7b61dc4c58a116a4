package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/ocapgo/kernel-actors/persistence"
)

// Open opens the store at path, creating it (mode 0600) if it does not
// exist; path "" opens a fresh in-memory store (persistence.OpenMemory).
// Opening checks, in order, that the file can be written, that no other
// kernel has it, that it is a kernel-actors database of a schema this
// build knows (an older one is migrated, a newer one refused), and that
// SQLite's quick_check passes (over the tables it loads whole, or the
// whole file with Options.FullCheck or a read-only open); then it loads
// the state. Each failure names
// the file and matches one of persistence.ErrReadOnly, ErrLocked,
// ErrNotDatabase, ErrNewerSchema or ErrCorrupt with errors.Is.
func Open(ctx context.Context, path string, opts persistence.Options) (*persistence.Store, error) {
	if path == "" {
		return persistence.OpenMemory(opts)
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	b := &sqliteBackend{path: path, opts: &opts}
	open := b.open
	if opts.ReadOnly {
		open = b.openReadOnly
	}
	if err := open(ctx); err != nil {
		b.Crash()
		return nil, err
	}
	s, err := persistence.NewStore(ctx, path, opts, b)
	if err != nil {
		b.Crash()
		return nil, err
	}
	return s, nil
}

// sqliteBackend keeps the store in a SQLite file, through one connection
// held for the store's life: the kernel is the only writer.
type sqliteBackend struct {
	path  string
	opts  *persistence.Options
	db    *sql.DB
	conn  *sql.Conn
	lock  *os.File // advisory lock that keeps a second kernel off the file
	stmts stmtCache
	// The paged tables' sources, by table name, and the statements they
	// prepared (closed with the backend).
	sources map[string]any
	reads   []*sql.Stmt
}

var _ persistence.Backend = (*sqliteBackend)(nil)

func (s *sqliteBackend) open(ctx context.Context) error {
	if err := prepareFile(s.path); err != nil {
		return err
	}
	lock, err := lockFile(s.path + ".lock")
	if err != nil {
		return err
	}
	s.lock = lock
	version, err := s.connect(ctx, "rw")
	if err != nil {
		return err
	}
	// A file of this build's schema gets its resident tables checked; a
	// fresh one, or one about to be migrated, the whole file (for a fresh
	// file that is nothing, and a migration is rare).
	var checkTables []string // nil: the whole file
	if !s.opts.FullCheck && version == SchemaVersion {
		checkTables = residentTables()
	}
	if err := s.quickCheck(ctx, checkTables...); err != nil {
		return err
	}
	{
		var mode string
		if err := s.conn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
			return s.classify("enable WAL", err)
		}
		if !strings.EqualFold(mode, "wal") {
			return fmt.Errorf("persistence: %s: journal_mode is %q after asking for WAL", s.describe(), mode)
		}
		if _, err := s.conn.ExecContext(ctx, "PRAGMA synchronous = "+string(s.opts.Synchronous)); err != nil {
			return s.classify("set synchronous", err)
		}
		if _, err := s.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walAutocheckpoint)); err != nil {
			return s.classify("set wal_autocheckpoint", err)
		}
	}
	if err := s.migrate(ctx, version); err != nil {
		return err
	}
	if s.opts.Reset {
		return s.reset(ctx)
	}
	return nil
}

// walAutocheckpoint is the WAL's length, in pages, at which a commit
// copies it back into the database (SQLite's automatic checkpoint; its
// default is 1000). A crank's commit writes about nine pages, so at 1000
// every hundred-odd commits paid for a checkpoint: the WAL synced, every
// page it holds copied back, the database synced (with synchronous=NORMAL
// the only syncs there are). Most of those pages are the same few hot
// ones written again and again, and a checkpoint copies each only once,
// so a longer WAL makes the copying and the syncs rarer for the same
// commits: about a fifth of a crank's cost on a file with
// synchronous=NORMAL here. The price is a WAL file of up to 32 MiB (at
// 4 KiB pages) beside the database, and a longer replay at the next open
// after a crash.
const walAutocheckpoint = 8192

// uriPath escapes a file path for a SQLite URI filename. Unescaped, a
// '?' or '#' ends the path (and go-sqlite3 reads its options from the
// first '?'): "/tmp/x#1/a.db" and "/tmp/x#1/b.db" would both open
// "/tmp/x", two kernels on one database. SQLite decodes the %XX escapes.
func uriPath(path string) string {
	return uriEscaper.Replace(path)
}

var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// connect opens the one connection (mode "rw" or "ro"), sets the busy
// timeout, and checks that the file is ours and of a schema this build
// knows, returning its version.
func (s *sqliteBackend) connect(ctx context.Context, mode string) (version int, err error) {
	db, err := sql.Open("sqlite3", "file:"+uriPath(s.path)+"?mode="+mode)
	if err != nil {
		return 0, fmt.Errorf("persistence: open %s: %w", s.describe(), err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	s.db = db
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, s.classify("connect", err)
	}
	s.conn = conn
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", s.opts.BusyTimeout.Milliseconds())); err != nil {
		return 0, s.classify("set busy_timeout", err)
	}
	return s.checkIdentity(ctx)
}

// openReadOnly opens an existing store file to read: mode=ro, no lock,
// no migration. A store of another schema version is refused: an older
// one needs a kernel to migrate it first.
func (s *sqliteBackend) openReadOnly(ctx context.Context) error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("persistence: %q: %w", s.path, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("persistence: %q is a directory, not a database file", s.path)
	}
	version, err := s.connect(ctx, "ro")
	if err != nil {
		return err
	}
	switch {
	case version == 0:
		return fmt.Errorf("%w: %s is empty: no kernel has run on it", persistence.ErrNotDatabase, s.describe())
	case version < SchemaVersion:
		return fmt.Errorf("%w: %s has schema version %d, older than this build's %d; start a kernel on it once to migrate it",
			persistence.ErrOlderSchema, s.describe(), version, SchemaVersion)
	}
	return s.quickCheck(ctx)
}

// reset deletes every row of every table in one transaction. The schema
// is taken from the file, so a table a later migration adds is covered.
func (s *sqliteBackend) reset(ctx context.Context) error {
	rows, err := s.conn.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		return s.classify("list tables for reset", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return s.classify("list tables for reset", err)
		}
		tables = append(tables, name)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return s.classify("list tables for reset", err)
	}
	if _, err := s.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return s.classify("begin reset", err)
	}
	for _, t := range tables {
		if _, err := s.conn.ExecContext(ctx, `DELETE FROM "`+t+`"`); err != nil {
			s.conn.ExecContext(ctx, "ROLLBACK")
			return s.classify("reset table "+t, err)
		}
	}
	if _, err := s.conn.ExecContext(ctx, "COMMIT"); err != nil {
		s.conn.ExecContext(ctx, "ROLLBACK")
		return s.classify("commit reset", err)
	}
	return nil
}

// prepareFile checks what can be checked about path before SQLite sees it,
// and creates a missing file with mode 0600 (SQLite would use 0644, and a
// kernel's state is nobody else's business).
func prepareFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		if fi.IsDir() {
			return fmt.Errorf("persistence: %q is a directory, not a database file", path)
		}
		// A database file marked read-only is refused even for root, who
		// could write it anyway: the mark says someone wants it left alone.
		if fi.Mode().Perm()&0o200 == 0 {
			return fmt.Errorf("%w: %q is marked read-only (mode %04o)", persistence.ErrReadOnly, path, fi.Mode().Perm())
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			if errors.Is(err, os.ErrPermission) {
				return fmt.Errorf("%w: %q: %v", persistence.ErrReadOnly, path, err)
			}
			return fmt.Errorf("persistence: open %q: %w", path, err)
		}
		return f.Close()
	case errors.Is(err, os.ErrNotExist):
		dir := filepath.Dir(path)
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("persistence: cannot create database %q: directory %q: %w", path, dir, err)
		}
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, os.ErrPermission) {
				return fmt.Errorf("%w: cannot create %q: %v", persistence.ErrReadOnly, path, err)
			}
			return fmt.Errorf("persistence: create %q: %w", path, err)
		}
		return f.Close()
	default:
		return fmt.Errorf("persistence: %q: %w", path, err)
	}
}

// classify turns a SQLite error met while opening into one of the Open
// errors, naming the file.
func (s *sqliteBackend) classify(step string, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrNotADB:
			return fmt.Errorf("%w: %s is not a SQLite database (%s: %v)", persistence.ErrNotDatabase, s.describe(), step, err)
		case sqlite3.ErrCorrupt:
			return fmt.Errorf("%w: %s (%s: %v)", persistence.ErrCorrupt, s.describe(), step, err)
		case sqlite3.ErrReadonly, sqlite3.ErrCantOpen, sqlite3.ErrPerm:
			return fmt.Errorf("%w: %s (%s: %v)", persistence.ErrReadOnly, s.describe(), step, err)
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return fmt.Errorf("%w: %s is locked by another connection (%s: %v)", persistence.ErrLocked, s.describe(), step, err)
		}
	}
	return fmt.Errorf("persistence: %s: %s: %w", s.describe(), step, err)
}

// checkIdentity reads the application id and schema version, refusing
// files that belong to another program or to a newer build.
func (s *sqliteBackend) checkIdentity(ctx context.Context) (version int, err error) {
	var appID int64
	if err := s.conn.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return 0, s.classify("read application_id", err)
	}
	if err := s.conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, s.classify("read user_version", err)
	}
	switch {
	case appID == ApplicationID:
	case appID != 0:
		return 0, fmt.Errorf("%w: %s belongs to another program (application_id %#x)", persistence.ErrNotDatabase, s.describe(), appID)
	default:
		// A fresh file has neither mark; a file with tables but no mark
		// is some other program's database.
		var n int
		if err := s.conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
			return 0, s.classify("read schema", err)
		}
		if n > 0 || version != 0 {
			return 0, fmt.Errorf("%w: %s holds %d schema objects but no kernel-actors mark", persistence.ErrNotDatabase, s.describe(), n)
		}
	}
	if version > SchemaVersion {
		return 0, fmt.Errorf("%w: %s has schema version %d; this build knows up to %d (upgrade kernel-actors)",
			persistence.ErrNewerSchema, s.describe(), version, SchemaVersion)
	}
	return version, nil
}

// quickCheck runs SQLite's quick_check over tables and their indexes, or
// over the whole file if none are named, and fails with ErrCorrupt,
// naming what it found (and the rows behind a failed CHECK).
func (s *sqliteBackend) quickCheck(ctx context.Context, tables ...string) error {
	var problems []string
	if len(tables) == 0 {
		tables = []string{""}
	}
	for _, table := range tables {
		if err := s.quickCheckOne(ctx, table, &problems); err != nil {
			return err
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s failed quick_check: %s%s", persistence.ErrCorrupt, s.describe(), strings.Join(problems, "; "), s.checkFailures(ctx, problems))
	}
	return nil
}

// quickCheckOne runs quick_check over table ("" for the whole file),
// adding what it finds to problems (at most five in all).
func (s *sqliteBackend) quickCheckOne(ctx context.Context, table string, problems *[]string) error {
	q := "PRAGMA quick_check"
	if table != "" {
		// Since SQLite 3.33 a table name limits the check to the table
		// and its indexes. The names are the schema's own.
		q += "(" + table + ")"
	}
	rows, err := s.conn.QueryContext(ctx, q)
	if err != nil {
		return s.classify("quick_check", err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.classify("quick_check", err)
		}
		if line != "ok" && len(*problems) < 5 {
			*problems = append(*problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.classify("quick_check", err)
	}
	return nil
}

// migrate brings the schema from version to SchemaVersion in one
// transaction, so a failed migration leaves the file as it was.
func (s *sqliteBackend) migrate(ctx context.Context, version int) error {
	return s.migrateTo(ctx, version, SchemaVersion)
}

func (s *sqliteBackend) migrateTo(ctx context.Context, from, to int) error {
	if from >= to {
		return nil
	}
	if _, err := s.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return s.classify("begin migration", err)
	}
	fail := func(step string, err error) error {
		s.conn.ExecContext(ctx, "ROLLBACK")
		return s.classify(step, err)
	}
	for v := from; v < to; v++ {
		if _, err := s.conn.ExecContext(ctx, migrations[v]); err != nil {
			return fail(fmt.Sprintf("migrate schema %d -> %d", v, v+1), err)
		}
	}
	if _, err := s.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", to)); err != nil {
		return fail("set user_version", err)
	}
	if _, err := s.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", ApplicationID)); err != nil {
		return fail("set application_id", err)
	}
	if _, err := s.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fail("commit migration", err)
	}
	return nil
}

func (s *sqliteBackend) describe() string { return fmt.Sprintf("database %q", s.path) }

// Close implements persistence.Backend.
func (s *sqliteBackend) Close(ctx context.Context) error {
	var err error
	s.stmts.close()
	for _, st := range s.reads {
		st.Close()
	}
	s.reads, s.sources = nil, nil
	if s.conn != nil {
		if cerr := s.conn.Close(); cerr != nil {
			err = fmt.Errorf("persistence: close %s: %w", s.describe(), cerr)
		}
		s.conn = nil
	}
	if s.db != nil {
		if cerr := s.db.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("persistence: close %s: %w", s.describe(), cerr)
		}
		s.db = nil
	}
	if s.lock != nil {
		unlockFile(s.lock)
		s.lock = nil
	}
	return err
}

// Crash implements persistence.Backend.
func (s *sqliteBackend) Crash() { s.Close(context.Background()) }

// Independent implements persistence.Backend: the file is a record apart
// from the store's memory.
func (s *sqliteBackend) Independent() bool { return true }

// VatEvents implements persistence.Backend.
func (s *sqliteBackend) VatEvents(ctx context.Context, vat string) ([]persistence.VatEvent, error) {
	rows, err := s.conn.QueryContext(ctx,
		"SELECT vat_id, incarnation, event, reason, at_crank FROM vat_events WHERE ? = '' OR vat_id = ? ORDER BY seq", vat, vat)
	if err != nil {
		return nil, fmt.Errorf("persistence: read vat_events: %w", err)
	}
	defer rows.Close()
	var out []persistence.VatEvent
	for rows.Next() {
		var e persistence.VatEvent
		var at int64
		if err := rows.Scan(&e.Vat, &e.Incarnation, &e.Event, &e.Reason, &at); err != nil {
			return nil, fmt.Errorf("persistence: read vat_events: %w", err)
		}
		e.AtCrank = uint64(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
