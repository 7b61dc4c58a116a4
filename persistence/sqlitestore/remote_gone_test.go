package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/persistence"
)

// The gone-object table commits, aborts and reopens like every table,
// lists a remote's refs by seq, and refuses a tampered row at open.
func TestGoneRefs(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		s := open(persistence.Options{})
		require.False(t, s.HasGoneRefs())
		require.NoError(t, s.Begin())
		s.PutGoneRef("r1", "ro-9", persistence.GoneRow{Seq: 7})
		s.PutGoneRef("r1", "ro-2", persistence.GoneRow{KRef: "ko4", Seq: 5})
		s.PutGoneRef("r2", "ro-1", persistence.GoneRow{Seq: 1})
		_, err := s.Commit(ctx)
		require.NoError(t, err)
		mustVerify(t, s)
		require.Equal(t, []string{"ro-2", "ro-9"}, s.GoneRefs("r1"), "by seq")
		require.Equal(t, []string{"r1", "r2"}, s.GoneRemotes())
		require.True(t, s.HasGoneRefs())
		require.NoError(t, s.Begin())
		s.DeleteGoneRef("r1", "ro-2")
		s.PutGoneRef("r1", "ro-9", persistence.GoneRow{KRef: "ko8", Seq: 7})
		s.Abort()
		r, ok := s.GoneRef("r1", "ro-2")
		require.True(t, ok)
		require.Equal(t, persistence.GoneRow{KRef: "ko4", Seq: 5}, r)
		r, _ = s.GoneRef("r1", "ro-9")
		require.Equal(t, persistence.GoneRow{Seq: 7}, r, "the abort dropped the stand-in")
	})
	requireTamperRefused(t, "remote_gone", func(s *persistence.Store) { s.PutGoneRef("r1", "ro-1", persistence.GoneRow{KRef: "ko1", Seq: 1}) },
		`UPDATE remote_gone SET ref = 'ro+1'`, `UPDATE remote_gone SET ref = 'rp-1'`,
		`UPDATE remote_gone SET kref = 'kp1'`, `UPDATE remote_gone SET seq = 0`)
}

// A store of schema version 6 (before the gone-object table) opens,
// keeps its rows, and is migrated: the new table is there, empty, and
// takes rows.
func TestOpenMigratesVersion6(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	_, err = db.Exec(strings.Join(migrations[:6], "\n"))
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = 6; PRAGMA application_id = %d;", ApplicationID))
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO remotes VALUES ('r1', ?, '127.0.0.1:4001', 'active', 3, 2, 4, 1, 7)`, peerA)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO remote_sent VALUES ('r1', 'ro-1', 2)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer s.Close(ctx)
	r, ok := s.Remote("r1")
	require.True(t, ok)
	require.Equal(t, remoteRow(4, 1, 7), r)
	require.Equal(t, []string{"ro-1"}, s.SentRefs("r1"))
	require.False(t, s.HasGoneRefs())
	require.NoError(t, s.Begin())
	s.PutGoneRef("r1", "ro-2", persistence.GoneRow{Seq: 3})
	_, err = s.Commit(ctx)
	require.NoError(t, err)
	mustVerify(t, s)
	var version int
	require.NoError(t, sqlConn(t, s).QueryRowContext(ctx, "PRAGMA user_version").Scan(&version))
	require.Equal(t, SchemaVersion, version)
}
