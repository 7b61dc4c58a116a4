package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/ocapgo/kernel-actors/persistence"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOpenRejectsBadFiles(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		wantErr error
		wantMsg string
		atRead  bool // the damage is found at the first read, not at a writable open
	}{
		{
			name: "not sqlite",
			prepare: func(t *testing.T, path string) {
				require.NoError(t, os.WriteFile(path, []byte("this is a shopping list, not a database\n"+string(make([]byte, 4096))), 0o600))
			},
			wantErr: persistence.ErrNotDatabase,
			wantMsg: "is not a SQLite database",
		},
		{
			name: "another program's sqlite",
			prepare: func(t *testing.T, path string) {
				db, err := sql.Open("sqlite3", path)
				require.NoError(t, err)
				_, err = db.Exec("CREATE TABLE recipes (name TEXT)")
				require.NoError(t, err)
				require.NoError(t, db.Close())
			},
			wantErr: persistence.ErrNotDatabase,
			wantMsg: "no kernel-actors mark",
		},
		{
			name: "newer schema",
			prepare: func(t *testing.T, path string) {
				s, err := Open(ctx, path, persistence.Options{})
				require.NoError(t, err)
				_, err = sqlConn(t, s).ExecContext(ctx, "PRAGMA user_version = 99")
				require.NoError(t, err)
				require.NoError(t, s.Close(ctx))
			},
			wantErr: persistence.ErrNewerSchema,
			wantMsg: "schema version 99",
		},
		{
			name: "read-only file",
			prepare: func(t *testing.T, path string) {
				s, err := Open(ctx, path, persistence.Options{})
				require.NoError(t, err)
				require.NoError(t, s.Close(ctx))
				require.NoError(t, os.Chmod(path, 0o400))
			},
			wantErr: persistence.ErrReadOnly,
			wantMsg: "read-only",
		},
		{
			name: "corrupt c-list index",
			prepare: func(t *testing.T, path string) {
				s, err := Open(ctx, path, persistence.Options{})
				require.NoError(t, err)
				require.NoError(t, s.Begin())
				for i := 1; i < 500; i++ {
					n := fmt.Sprint(i)
					s.PutCList("v1", "kp"+n, persistence.CListRow{VRef: "p-" + n, Reachable: true})
				}
				_, err = s.Commit(ctx)
				require.NoError(t, err)
				corruptRootPage(t, s, path, "clist_by_kref")
			},
			// A writable open lists the c-list's promise entries on
			// clist_by_kref (they stay in memory): the damaged index fails
			// the open, naming what it was reading.
			wantErr: persistence.ErrCorrupt,
			wantMsg: "load the promises of the c-list",
		},
		{
			name: "corrupt pages",
			prepare: func(t *testing.T, path string) {
				s, err := Open(ctx, path, persistence.Options{})
				require.NoError(t, err)
				require.NoError(t, s.Begin())
				for i := 0; i < 2000; i++ {
					s.VatstoreSet("v1", string(rune('a'+i%26))+string(rune(i)), "some value that takes room on a page")
				}
				_, err = s.Commit(ctx)
				require.NoError(t, err)
				corruptRootPage(t, s, path, "vatstore")
			},
			wantErr: persistence.ErrCorrupt,
			wantMsg: "k.db",
			// The damage is in the vatstore, a paged table: a writable
			// open checks only the tables it loads whole, and the first
			// read of the damaged pages fails the store.
			atRead: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.db")
			tt.prepare(t, path)
			s, err := Open(ctx, path, persistence.Options{})
			if tt.atRead {
				// The damage must not be found before the first read.
				require.NoError(t, err, "a writable open checks only the resident tables")
				readAll(s)
				s.VatstoreKeys("v1")
				err = s.Err()
				require.ErrorIs(t, err, persistence.ErrFailed)
				s.Close(ctx)
				s = nil
				full, ferr := Open(ctx, path, persistence.Options{FullCheck: true})
				if full != nil {
					full.Close(ctx)
				}
				require.ErrorIs(t, ferr, tt.wantErr, "FullCheck finds it at open")
			}
			if s != nil {
				s.Close(ctx)
			}
			require.ErrorIs(t, err, tt.wantErr)
			require.Contains(t, err.Error(), tt.wantMsg)
			require.Contains(t, err.Error(), path, "the error names the file")
		})
	}
}

// corruptRootPage closes s and scribbles over the root page of the named
// table or index in its file: every read of it goes through that page,
// wherever its rows landed (scribbling at a fixed offset could hit a free
// page, which nothing reads).
func corruptRootPage(t *testing.T, s *persistence.Store, path, name string) {
	t.Helper()
	ctx := context.Background()
	conn := sqlConn(t, s)
	_, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	require.NoError(t, err)
	var root, pageSize int64
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT rootpage FROM sqlite_schema WHERE name = ?", name).Scan(&root))
	require.NoError(t, conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize))
	require.NoError(t, s.Close(ctx))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	junk := make([]byte, pageSize)
	for i := range junk {
		junk[i] = byte(i * 7)
	}
	_, err = f.WriteAt(junk, (root-1)*pageSize)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func TestOpenRefusesSecondKernel(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	_, err = Open(ctx, path, persistence.Options{})
	require.ErrorIs(t, err, persistence.ErrLocked)
	require.Contains(t, err.Error(), path)
	require.NoError(t, s.Close(ctx))
	s2, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err, "the lock is released on Close")
	require.NoError(t, s2.Close(ctx))
}

func TestOpenMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "k.db")
	_, err := Open(context.Background(), path, persistence.Options{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "directory")
	require.Contains(t, err.Error(), path)
}

func TestOpenMigratesOlderSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	// Build a version-1 store by hand, as an older build would have left it.
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	_, err = db.Exec(migrations[0])
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = 1; PRAGMA application_id = %d;", ApplicationID))
	require.NoError(t, err)
	_, err = db.Exec("INSERT INTO meta (key, value) VALUES ('next_vat', '7')")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer s.Close(ctx)
	var version int
	require.NoError(t, sqlConn(t, s).QueryRowContext(ctx, "PRAGMA user_version").Scan(&version))
	require.Equal(t, SchemaVersion, version)
	var n int
	require.NoError(t, sqlConn(t, s).QueryRowContext(ctx, "SELECT count(*) FROM vat_events").Scan(&n), "migration 2 added vat_events")
	require.Equal(t, uint64(7), s.PeekID(persistence.MetaNextVat), "data from the old schema survives")
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		opts    persistence.Options
		wantErr string
	}{
		{persistence.Options{Policy: "sometimes"}, "Options.Policy"},
		{persistence.Options{GroupCranks: -1}, "Options.GroupCranks"},
		{persistence.Options{GroupInterval: -1}, "Options.GroupInterval"},
		{persistence.Options{Synchronous: "EXTRA"}, "Options.Synchronous"},
		{persistence.Options{BusyTimeout: -1}, "Options.BusyTimeout"},
	}
	for _, tt := range tests {
		_, err := Open(context.Background(), "", tt.opts)
		require.ErrorContains(t, err, tt.wantErr)
	}
}

func TestSchemaVersionMatchesMigrations(t *testing.T) {
	require.Len(t, migrations, SchemaVersion)
}

// A read-only open reads a store beside the kernel that holds it: no
// lock, a consistent snapshot, and no writes.
func TestOpenReadOnlyBesideAKernel(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	w, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer w.Close(ctx)
	require.NoError(t, w.Begin())
	w.Enqueue(persistence.QueueItem{Kind: persistence.QueueNotify, Vat: "v1", KPID: "kp1"})
	w.PutPromise("kp1", persistence.PromiseRow{State: persistence.PromiseUnresolved, Decider: "v1", RefCount: 1})
	_, err = w.Commit(ctx)
	require.NoError(t, err)

	r, err := Open(ctx, path, persistence.Options{ReadOnly: true})
	require.NoError(t, err, "the writer's lock does not keep readers out")
	require.Equal(t, 1, r.QueueLen())
	_, ok := r.Promise("kp1")
	require.True(t, ok)
	require.ErrorIs(t, r.Begin(), persistence.ErrReadOnly)
	require.NoError(t, r.Close(ctx))

	// The writer goes on; a snapshot taken before is not damaged by it,
	// and a new read sees it.
	snap, err := Open(ctx, path, persistence.Options{ReadOnly: true})
	require.NoError(t, err)
	require.NoError(t, w.Begin())
	w.Dequeue()
	_, err = w.Commit(ctx)
	require.NoError(t, err)
	diffs, err := snap.Verify(ctx, 0)
	require.NoError(t, err)
	require.Empty(t, diffs, "a snapshot is not compared with the moved-on file")
	require.NoError(t, snap.Close(ctx))
	r, err = Open(ctx, path, persistence.Options{ReadOnly: true})
	require.NoError(t, err)
	require.Equal(t, 0, r.QueueLen())
	require.NoError(t, r.Close(ctx))
	_, err = Open(ctx, t.TempDir(), persistence.Options{ReadOnly: true})
	require.ErrorContains(t, err, "is a directory")
	_, err = Open(ctx, path, persistence.Options{ReadOnly: true, Reset: true})
	require.ErrorContains(t, err, "exclude each other")

	_, err = Open(ctx, filepath.Join(t.TempDir(), "missing.db"), persistence.Options{ReadOnly: true})
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = Open(ctx, "", persistence.Options{ReadOnly: true})
	require.ErrorContains(t, err, "needs a file path")
	empty := filepath.Join(t.TempDir(), "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	_, err = Open(ctx, empty, persistence.Options{ReadOnly: true})
	require.ErrorIs(t, err, persistence.ErrNotDatabase)

	old := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite3", old)
	require.NoError(t, err)
	_, err = db.Exec(migrations[0])
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = 1; PRAGMA application_id = %d;", ApplicationID))
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = Open(ctx, old, persistence.Options{ReadOnly: true})
	require.ErrorIs(t, err, persistence.ErrOlderSchema, "a reader does not migrate")
}

// A path with the characters a SQLite URI gives meaning to ('?', '#',
// '%') opens the file it names, and two such paths that differ only
// after them open two databases, not one.
func TestOpenPathsWithURICharacters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	names := []string{"run#1/a.db", "run#1/b.db", "what?/k.db", "100%/k.db", "%41/k.db"}
	for i, name := range names {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
		s, err := Open(ctx, path, persistence.Options{})
		require.NoError(t, err, name)
		require.NoError(t, s.Begin())
		s.SetMeta("which", fmt.Sprint(i))
		_, err = s.Commit(ctx)
		require.NoError(t, err)
		require.NoError(t, s.Close(ctx))
		_, err = os.Stat(path)
		require.NoError(t, err, "the file is at the path given")
	}
	for i, name := range names {
		s, err := Open(ctx, filepath.Join(dir, name), persistence.Options{})
		require.NoError(t, err, name)
		v, _ := s.Meta("which")
		require.Equal(t, fmt.Sprint(i), v, "%s kept its own database", name)
		require.NoError(t, s.Close(ctx))
	}
	_, err := os.Stat(filepath.Join(dir, "run"))
	require.True(t, os.IsNotExist(err), "nothing was opened at the path cut short")
}
