package sqlitestore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/persistence"
)

var peerA = strings.Repeat("ab", 32) // a well-formed peer id: 64 hex digits

func remoteRow(nextSend, acked, applied uint64) persistence.RemoteRow {
	return persistence.RemoteRow{PeerID: peerA, Address: "127.0.0.1:4001", State: persistence.RemoteActive,
		NextObject: 3, NextPromise: 2, NextSend: nextSend, Acked: acked, Applied: applied}
}

// The remote tables behave as every table: a unit's writes are seen by the
// unit, an abort drops them, a commit keeps them, and memory equals the
// file after each.
func TestRemoteTablesCommitAbort(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		s := open(persistence.Options{})
		require.NoError(t, s.Begin())
		require.Equal(t, uint64(1), s.NextID(persistence.MetaNextRemote))
		s.PutRemote("r1", remoteRow(4, 1, 7))
		s.PutOutboxMessage("r1", 2, `{"kind":"deliver"}`)
		s.PutOutboxMessage("r1", 3, `{"kind":"notify"}`)
		_, err := s.Commit(ctx)
		require.NoError(t, err)
		mustVerify(t, s)

		// An ack of 2 and a new send, aborted: nothing of it remains.
		require.NoError(t, s.Begin())
		s.DeleteOutboxMessage("r1", 2)
		s.PutOutboxMessage("r1", 4, `{"kind":"deliver"}`)
		s.PutRemote("r1", remoteRow(5, 2, 7))
		require.Equal(t, []uint64{3, 4}, s.OutboxSeqs("r1"), "the unit sees its own writes")
		s.Abort()
		require.Equal(t, []uint64{2, 3}, s.OutboxSeqs("r1"))
		r, ok := s.Remote("r1")
		require.True(t, ok)
		require.Equal(t, remoteRow(4, 1, 7), r)
		msg, ok := s.OutboxMessage("r1", 2)
		require.True(t, ok)
		require.Equal(t, `{"kind":"deliver"}`, msg)
		require.Equal(t, []string{"r1"}, s.RemoteIDs())
		require.Equal(t, []string{"r1"}, s.OutboxRemotes())
		mustVerify(t, s)
	})
}

// A file store keeps the remote tables across a reopen, and a row that
// breaks their rules is refused at open, naming the table and the row.
func TestRemoteTablesReopenAndChecks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Begin())
	s.PutRemote("r1", remoteRow(3, 0, 0))
	s.PutOutboxMessage("r1", 1, "m1")
	s.PutOutboxMessage("r1", 2, "m2")
	_, err = s.Commit(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close(ctx))

	s, err = Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	r, ok := s.Remote("r1")
	require.True(t, ok)
	require.Equal(t, remoteRow(3, 0, 0), r)
	require.Equal(t, []uint64{1, 2}, s.OutboxSeqs("r1"))
	mustVerify(t, s)
	require.NoError(t, s.Close(ctx))

	for _, tt := range []struct{ name, stmt, want string }{
		{"acked past what was sent", `UPDATE remotes SET acked = 3`, "remotes"},
		{"a peer id of the wrong length", `UPDATE remotes SET peer_id = 'abc'`, "remotes"},
		{"an unknown state", `UPDATE remotes SET state = 'sleeping'`, "remotes"},
		{"a negative counter", `UPDATE remotes SET applied = -1`, "applied"},
		{"an outbox seq of zero", `UPDATE remote_outbox SET seq = 0 WHERE seq = 1`, "remote_outbox"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "k.db")
			s, err := Open(ctx, p, persistence.Options{})
			require.NoError(t, err)
			require.NoError(t, s.Begin())
			s.PutRemote("r1", remoteRow(3, 0, 0))
			s.PutOutboxMessage("r1", 1, "m1")
			_, err = s.Commit(ctx)
			require.NoError(t, err)
			require.NoError(t, s.Close(ctx))
			tamper(t, p, tt.stmt)
			s, err = Open(ctx, p, persistence.Options{})
			if s != nil {
				s.Close(ctx)
			}
			require.ErrorIs(t, err, persistence.ErrCorrupt)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// A deleted remote row is gone from memory and from the file, an aborted
// delete leaves it, and a reopen does not bring it back.
func TestRemoteDelete(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Begin())
	require.Equal(t, uint64(1), s.NextID(persistence.MetaNextRemote))
	s.PutRemote("r1", remoteRow(2, 0, 0))
	s.PutOutboxMessage("r1", 1, "m1")
	_, err = s.Commit(ctx)
	require.NoError(t, err)

	require.NoError(t, s.Begin())
	s.DeleteOutboxMessage("r1", 1)
	s.DeleteRemote("r1")
	require.Empty(t, s.RemoteIDs(), "the unit sees its own delete")
	s.Abort()
	require.Equal(t, []string{"r1"}, s.RemoteIDs())

	require.NoError(t, s.Begin())
	s.DeleteOutboxMessage("r1", 1)
	s.DeleteRemote("r1")
	_, err = s.Commit(ctx)
	require.NoError(t, err)
	mustVerify(t, s)
	require.NoError(t, s.Close(ctx))

	s, err = Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer s.Close(ctx)
	_, ok := s.Remote("r1")
	require.False(t, ok)
	require.Empty(t, s.RemoteIDs())
	require.Empty(t, s.OutboxRemotes())
	require.Equal(t, uint64(2), s.PeekID(persistence.MetaNextRemote), "the id is not reused")
	mustVerify(t, s)
}
