package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/ocapgo/kernel-actors/persistence"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A version-2 store with rows in every table that version 3 extends opens
// with the new columns at their defaults, and the rows survive.
func TestOpenMigratesVersion2Rows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	_, err = db.Exec(strings.Join(migrations[:2], "\n"))
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = 2; PRAGMA application_id = %d;", ApplicationID))
	require.NoError(t, err)
	for _, q := range []string{
		`INSERT INTO subclusters VALUES ('s1', 'alice', '{}')`,
		`INSERT INTO vats VALUES ('v1', 'alice', 's1', '{}', 'active', 2, 1, 1)`,
		`INSERT INTO promises VALUES ('kp1', 'unresolved', 'v1', '[]', 0, NULL, NULL, 1, 1, 1)`,
	} {
		_, err = db.Exec(q)
		require.NoError(t, err, q)
	}
	require.NoError(t, db.Close())

	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer s.Close(ctx)
	v, ok := s.Vat("v1")
	require.True(t, ok)
	require.Equal(t, int64(2), v.Incarnation)
	require.Empty(t, v.Restarts)
	p, ok := s.Promise("kp1")
	require.True(t, ok)
	require.Equal(t, "v1", p.Decider)
	require.Equal(t, int64(0), p.DeciderIncarnation, "older rows take incarnation 0")
	sc, ok := s.Subcluster("s1")
	require.True(t, ok)
	require.Empty(t, sc.BootstrapKPID)
}

// The new columns round-trip through a flush and a reopen.
func TestVersion3ColumnsRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Begin())
	s.PutSubcluster("s1", persistence.SubclusterRow{Bootstrap: "a", Config: "{}", BootstrapKPID: "kp9"})
	s.PutVat("v1", persistence.VatRow{Name: "a", Subcluster: "s1", Config: "{}", State: persistence.VatActive, NextObject: 1, NextPromise: 1, Restarts: []int64{5, 7}})
	s.PutPromise("kp9", persistence.PromiseRow{State: persistence.PromiseUnresolved, Decider: "v1", DeciderIncarnation: 3, RefCount: 1, QueueHead: 1, QueueTail: 1})
	_, err = s.Commit(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close(ctx))

	s, err = Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer s.Close(ctx)
	sc, _ := s.Subcluster("s1")
	require.Equal(t, "kp9", sc.BootstrapKPID)
	v, _ := s.Vat("v1")
	require.Equal(t, []int64{5, 7}, v.Restarts)
	p, _ := s.Promise("kp9")
	require.Equal(t, int64(3), p.DeciderIncarnation)
}
