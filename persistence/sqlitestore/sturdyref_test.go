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

var (
	oid1 = strings.Repeat("0123456789abcdef", 2)
	oid2 = strings.Repeat("fedcba9876543210", 2)
)

// The sturdy-ref table behaves as every table: a unit's writes are seen
// by the unit, an abort drops them, a commit keeps them, and memory
// equals the file after each.
func TestSturdyRefsCommitAbort(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		s := open(persistence.Options{})
		require.NoError(t, s.Begin())
		require.Equal(t, uint64(1), s.NextID(persistence.MetaNextOcapURL))
		s.PutSturdyRef(oid2, "ko3")
		s.PutSturdyRef(oid1, "ko7")
		_, err := s.Commit(ctx)
		require.NoError(t, err)
		mustVerify(t, s)
		require.Equal(t, []string{oid1, oid2}, s.SturdyRefOIDs(), "sorted")

		// A revocation, aborted: the entry is back.
		require.NoError(t, s.Begin())
		s.DeleteSturdyRef(oid1)
		_, ok := s.SturdyRef(oid1)
		require.False(t, ok, "the unit sees its own delete")
		require.Equal(t, 1, s.SturdyRefCount())
		s.Abort()
		kref, ok := s.SturdyRef(oid1)
		require.True(t, ok)
		require.Equal(t, "ko7", kref)
		require.Equal(t, 2, s.SturdyRefCount())
		mustVerify(t, s)

		// Committed: gone.
		require.NoError(t, s.Begin())
		s.DeleteSturdyRef(oid1)
		_, err = s.Commit(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{oid2}, s.SturdyRefOIDs())
		mustVerify(t, s)
	})
}

// A file store keeps the table across a reopen, and a row that breaks its
// CHECKs is refused at open, naming the table.
func TestSturdyRefsReopenAndChecks(t *testing.T) {
	ctx := context.Background()
	write := func(t *testing.T, path string) {
		s, err := Open(ctx, path, persistence.Options{})
		require.NoError(t, err)
		require.NoError(t, s.Begin())
		s.PutSturdyRef(oid1, "ko7")
		_, err = s.Commit(ctx)
		require.NoError(t, err)
		require.NoError(t, s.Close(ctx))
	}
	path := filepath.Join(t.TempDir(), "k.db")
	write(t, path)
	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	kref, ok := s.SturdyRef(oid1)
	require.True(t, ok)
	require.Equal(t, "ko7", kref)
	mustVerify(t, s)
	require.NoError(t, s.Close(ctx))

	for _, tt := range []struct{ name, stmt string }{
		{"a short oid", `UPDATE sturdy_refs SET oid = 'abc'`},
		{"an upper-case oid", `UPDATE sturdy_refs SET oid = upper(oid)`},
		{"a promise kref", `UPDATE sturdy_refs SET kref = 'kp1'`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "k.db")
			write(t, p)
			tamper(t, p, tt.stmt)
			s, err := Open(ctx, p, persistence.Options{})
			if s != nil {
				s.Close(ctx)
			}
			require.ErrorIs(t, err, persistence.ErrCorrupt)
			require.Contains(t, err.Error(), "sturdy_refs")
		})
	}
}

// A version-4 store (remotes, no sturdy refs) opens with the new table,
// empty, and its rows survive; the table then works.
func TestOpenMigratesVersion4(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	db, err := sql.Open("sqlite3", path)
	require.NoError(t, err)
	_, err = db.Exec(strings.Join(migrations[:4], "\n"))
	require.NoError(t, err)
	_, err = db.Exec(fmt.Sprintf("PRAGMA user_version = 4; PRAGMA application_id = %d;", ApplicationID))
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO remotes VALUES ('r1', ?, '127.0.0.1:4001', 'active', 3, 2, 4, 1, 7)`, peerA)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer s.Close(ctx)
	r, ok := s.Remote("r1")
	require.True(t, ok)
	require.Equal(t, remoteRow(4, 1, 7), r)
	require.Empty(t, s.SturdyRefOIDs())
	require.NoError(t, s.Begin())
	s.PutSturdyRef(oid1, "ko1")
	_, err = s.Commit(ctx)
	require.NoError(t, err)
	mustVerify(t, s)
	var version int
	require.NoError(t, sqlConn(t, s).QueryRowContext(ctx, "PRAGMA user_version").Scan(&version))
	require.Equal(t, SchemaVersion, version)
}

// The retired-ref table commits, aborts and reopens like every table,
// lists a remote's refs by the seq that retired them, and refuses a
// tampered row at open.
func TestRetiredRefs(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		s := open(persistence.Options{})
		require.NoError(t, s.Begin())
		s.PutRetiredRef("r1", "rp+9", persistence.RetiredRow{KRef: "kp4", Seq: 7})
		s.PutRetiredRef("r1", "rp-2", persistence.RetiredRow{KRef: "kp3", Seq: 5})
		s.PutRetiredRef("r2", "rp+1", persistence.RetiredRow{KRef: "kp8", Seq: 1})
		_, err := s.Commit(ctx)
		require.NoError(t, err)
		mustVerify(t, s)
		require.Equal(t, []string{"rp-2", "rp+9"}, s.RetiredRefs("r1"), "by seq")
		require.Equal(t, []string{"r1", "r2"}, s.RetiredRemotes())
		require.True(t, s.HasRetiredRefs())
		require.NoError(t, s.Begin())
		s.DeleteRetiredRef("r1", "rp-2")
		s.Abort()
		r, ok := s.RetiredRef("r1", "rp-2")
		require.True(t, ok)
		require.Equal(t, persistence.RetiredRow{KRef: "kp3", Seq: 5}, r)
	})
	requireTamperRefused(t, "remote_retired", func(s *persistence.Store) { s.PutRetiredRef("r1", "rp+1", persistence.RetiredRow{KRef: "kp1", Seq: 1}) },
		`UPDATE remote_retired SET ref = 'ro+1'`, `UPDATE remote_retired SET kpid = 'ko1'`, `UPDATE remote_retired SET seq = 0`)
}
