package sqlitestore

import (
	"context"
	"errors"
	"github.com/ocapgo/kernel-actors/persistence"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/internal/invariants"
)

// storeKinds runs a contract test against the in-memory and the file
// store: both must behave the same.
func storeKinds(t *testing.T, fn func(t *testing.T, open func(opts persistence.Options) *persistence.Store)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, func(opts persistence.Options) *persistence.Store {
			s, err := Open(context.Background(), "", opts)
			require.NoError(t, err)
			t.Cleanup(func() { s.Close(context.Background()) })
			return s
		})
	})
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kernel.db")
		fn(t, func(opts persistence.Options) *persistence.Store {
			s, err := Open(context.Background(), path, opts)
			require.NoError(t, err)
			t.Cleanup(func() { s.Close(context.Background()) })
			return s
		})
	})
}

func mustVerify(t *testing.T, s *persistence.Store) {
	t.Helper()
	diffs, err := s.Verify(context.Background(), 0)
	require.NoError(t, err)
	require.Empty(t, diffs)
}

func TestStoreCommitAbortVerify(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		s := open(persistence.Options{})
		require.NoError(t, s.Begin())
		s.PutObject("ko1", persistence.ObjectRow{Owner: "v1", Reachable: 1, Recognizable: 2})
		s.PutCList("v1", "ko1", persistence.CListRow{VRef: "o+0", Reachable: true})
		s.Enqueue(persistence.QueueItem{Kind: persistence.QueueSend, Target: "ko1", Message: persistence.Message{Methargs: persistence.Data{Body: "#[]"}, Result: "kp1"}})
		s.VatstoreSet("v1", "a", "1")
		flushed, err := s.Commit(ctx)
		require.NoError(t, err)
		require.True(t, flushed, "durable policy flushes every unit")
		mustVerify(t, s)

		// An aborted unit leaves nothing behind, in memory or on disk.
		require.NoError(t, s.Begin())
		it, ok := s.Dequeue()
		require.True(t, ok)
		require.Equal(t, "ko1", it.Target)
		s.DeleteCList("v1", "ko1")
		s.PutObject("ko2", persistence.ObjectRow{Owner: "v2"})
		s.VatstoreDelete("v1", "a")
		require.Equal(t, 0, s.QueueLen())
		s.Abort()

		require.Equal(t, 1, s.QueueLen())
		head, ok := s.QueueHead()
		require.True(t, ok)
		require.Equal(t, "ko1", head.Target)
		_, ok = s.Object("ko2")
		require.False(t, ok)
		kref, ok := s.KRefOf("v1", "o+0")
		require.True(t, ok)
		require.Equal(t, "ko1", kref)
		v, ok := s.VatstoreGet("v1", "a")
		require.True(t, ok)
		require.Equal(t, "1", v)
		mustVerify(t, s)
		require.Equal(t, uint64(1), s.Stats().Flushes)
		require.Equal(t, uint64(1), s.Stats().Aborts)
	})
}

func TestStoreReopenKeepsState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Begin())
	require.Equal(t, uint64(1), s.NextID(persistence.MetaNextObject))
	require.Equal(t, uint64(2), s.NextID(persistence.MetaNextObject))
	s.PutPromise("kp1", persistence.PromiseRow{State: persistence.PromiseFulfilled, Value: persistence.Data{Body: "#1", Slots: []string{"ko1"}}, RefCount: 1})
	s.PutPromise("kp2", persistence.PromiseRow{State: persistence.PromiseUnresolved, Decider: "v2", Subscribers: []string{"v1", "v3"}, RefCount: 2, QueueHead: 1, QueueTail: 2})
	s.PutCList("v2", "kp1", persistence.CListRow{VRef: "p-1", Reachable: true})
	s.Enqueue(persistence.QueueItem{Kind: persistence.QueueNotify, Vat: "v2", KPID: "kp1"})
	s.Enqueue(persistence.QueueItem{Kind: persistence.QueueSend, Target: "ko1", Message: persistence.Message{Methargs: persistence.Data{Body: "#x", Slots: []string{"ko1", "kp1"}}}})
	s.AddGCAction(persistence.GCActionKey{Vat: "v1", Kind: persistence.GCDropExport, KRef: "ko1"})
	s.AddReap("v3")
	s.PutQueuedMessage("kp2", 1, persistence.Message{Methargs: persistence.Data{Body: "#q"}, Result: "kp3"})
	s.AppendVatEvent(persistence.VatEvent{Vat: "v1", Event: "terminated", Reason: "test"})
	_, err = s.Commit(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Begin())
	s.Dequeue()
	_, err = s.Commit(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close(ctx))

	s2, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer s2.Close(ctx)
	mustVerify(t, s2)
	require.Equal(t, uint64(3), s2.PeekID(persistence.MetaNextObject))
	p, ok := s2.Promise("kp1")
	require.True(t, ok)
	require.Equal(t, []string{"ko1"}, p.Value.Slots)
	p2, _ := s2.Promise("kp2")
	require.Equal(t, []string{"v1", "v3"}, p2.Subscribers)
	require.Equal(t, "v2", p2.Decider)
	require.Equal(t, 1, s2.QueueLen())
	head, _ := s2.QueueHead()
	require.Equal(t, persistence.QueueSend, head.Kind)
	require.Equal(t, []string{"ko1", "kp1"}, head.Message.Methargs.Slots)
	require.Equal(t, []persistence.GCActionKey{{Vat: "v1", Kind: persistence.GCDropExport, KRef: "ko1"}}, s2.GCActions())
	vat, ok := s2.NextReap()
	require.True(t, ok)
	require.Equal(t, "v3", vat)
	m, ok := s2.QueuedMessage("kp2", 1)
	require.True(t, ok)
	require.Equal(t, "kp3", m.Result)
	require.Equal(t, []string{"v2"}, s2.Holders("kp1"))
	var events int
	require.NoError(t, sqlConn(t, s2).QueryRowContext(ctx, "SELECT count(*) FROM vat_events").Scan(&events))
	require.Equal(t, 1, events)
}

// persistence.Reset empties every table of a file store, in the file, and the store
// then behaves as a fresh one; without persistence.Reset the state stays.
func TestStoreReset(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Begin())
	s.NextID(persistence.MetaNextObject)
	s.PutPromise("kp1", persistence.PromiseRow{State: persistence.PromiseUnresolved, Decider: "v1", RefCount: 1})
	s.Enqueue(persistence.QueueItem{Kind: persistence.QueueNotify, Vat: "v1", KPID: "kp1"})
	s.AddReap("v1")
	s.AppendVatEvent(persistence.VatEvent{Vat: "v1", Event: "terminated", Reason: "test"})
	_, err = s.Commit(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close(ctx))

	s, err = Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	require.Equal(t, 1, s.QueueLen(), "no reset: the state stays")
	require.NoError(t, s.Close(ctx))

	s, err = Open(ctx, path, persistence.Options{Reset: true})
	require.NoError(t, err)
	defer s.Close(ctx)
	mustVerify(t, s)
	require.Equal(t, 0, s.QueueLen())
	require.Equal(t, uint64(1), s.PeekID(persistence.MetaNextObject), "counters start over")
	_, ok := s.Promise("kp1")
	require.False(t, ok)
	rows, err := sqlConn(t, s).QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table'")
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Close())
	require.Len(t, tables, 19, "the schema is kept")
	for _, name := range tables {
		var n int
		require.NoError(t, sqlConn(t, s).QueryRowContext(ctx, "SELECT count(*) FROM "+name).Scan(&n))
		require.Zero(t, n, name)
	}
}

func TestStoreFileMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(context.Background(), path, persistence.Options{})
	require.NoError(t, err)
	defer s.Close(context.Background())
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestStoreGroupPolicy(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		clock := &fakeClock{t: time.Unix(1000, 0)}
		s := open(persistence.Options{Policy: persistence.Group, GroupCranks: 3, GroupInterval: time.Second, Now: clock.now})
		commit := func(i int) bool {
			require.NoError(t, s.Begin())
			s.SetMeta("k", string(rune('a'+i)))
			flushed, err := s.Commit(ctx)
			require.NoError(t, err)
			return flushed
		}
		require.False(t, commit(0))
		require.False(t, commit(1))
		require.True(t, commit(2), "the third unit completes a group of 3")
		require.Equal(t, uint64(1), s.Stats().Flushes)
		mustVerify(t, s)

		require.False(t, commit(3))
		require.False(t, s.FlushDue())
		clock.t = clock.t.Add(time.Second)
		require.True(t, s.FlushDue(), "a group that waited persistence.GroupInterval is due")
		require.NoError(t, s.Flush(ctx))
		require.Equal(t, uint64(2), s.Stats().Flushes)
		mustVerify(t, s)
	})
}

// A flush that fails before COMMIT leaves the file as the last good flush
// left it, and the store refuses further work until reopened.
func TestStoreFailedFlushIsSticky(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	fi := &switchFault{}
	s, err := Open(ctx, path, persistence.Options{Faults: fi})
	require.NoError(t, err)
	require.NoError(t, s.Begin())
	s.SetMeta("a", "1")
	_, err = s.Commit(ctx)
	require.NoError(t, err)

	fi.on = true
	require.NoError(t, s.Begin())
	s.SetMeta("a", "2")
	_, err = s.Commit(ctx)
	require.ErrorIs(t, err, persistence.ErrFailed)
	require.ErrorIs(t, s.Begin(), persistence.ErrFailed)
	s.Close(ctx)

	s2, err := Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	defer s2.Close(ctx)
	v, _ := s2.Meta("a")
	require.Equal(t, "1", v)
}

type switchFault struct{ on bool }

func (f *switchFault) Fault(p persistence.FaultPoint) error {
	if f.on && p == persistence.FaultBeforeCommit {
		return errors.New("injected fault")
	}
	return nil
}

func TestVatstoreNextKeySeesOverlay(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		s := open(persistence.Options{})
		require.NoError(t, s.Begin())
		for _, k := range []string{"b", "d", "f"} {
			s.VatstoreSet("v1", k, k)
		}
		s.VatstoreSet("v2", "c", "other vat")
		_, err := s.Commit(ctx)
		require.NoError(t, err)

		require.NoError(t, s.Begin())
		s.VatstoreDelete("v1", "d")
		s.VatstoreSet("v1", "e", "e")
		s.VatstoreSet("v1", "a", "a")
		tests := []struct {
			prior, want string
			ok          bool
		}{
			{"", "a", true},
			{"a", "b", true},
			{"b", "e", true}, // d is deleted in the open unit
			{"e", "f", true},
			{"f", "", false},
		}
		for _, tt := range tests {
			got, ok := s.VatstoreNextKey("v1", tt.prior)
			require.Equal(t, tt.ok, ok, "after %q", tt.prior)
			require.Equal(t, tt.want, got, "after %q", tt.prior)
		}
		require.Equal(t, []string{"a", "b", "e", "f"}, s.VatstoreKeys("v1"))
		_, err = s.Commit(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"a", "b", "e", "f"}, s.VatstoreKeys("v1"))
		mustVerify(t, s)
	})
}

// VatstoreVats lists the vats with entries as the open unit sees them: a
// vat whose last entry the unit deletes is gone, one the unit gives its
// first entry is there, in id order.
func TestVatstoreVatsSeesOverlay(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		s := open(persistence.Options{})
		require.Empty(t, s.VatstoreVats())
		require.NoError(t, s.Begin())
		s.VatstoreSet("v10", "a", "1")
		s.VatstoreSet("v2", "", "empty key")
		s.VatstoreSet("v3", "x", "1")
		_, err := s.Commit(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"v2", "v3", "v10"}, s.VatstoreVats())

		require.NoError(t, s.Begin())
		s.VatstoreDelete("v3", "x")
		s.VatstoreSet("v4", "y", "1")
		require.Equal(t, []string{"v2", "v4", "v10"}, s.VatstoreVats())
		s.Abort()
		require.Equal(t, []string{"v2", "v3", "v10"}, s.VatstoreVats())
	})
}

// Under -tags invariants (or -race) a row that breaks its own invariants
// panics at the write that makes it; release builds pay nothing for it.
func TestInvariantChecksOnRows(t *testing.T) {
	s, err := Open(context.Background(), "", persistence.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Begin())
	bad := func() { s.PutObject("ko1", persistence.ObjectRow{Reachable: 2, Recognizable: 1}) }
	if invariants.Enabled {
		require.Panics(t, bad)
	} else {
		require.NotPanics(t, bad)
	}
	s.Abort()
}

func TestVatEvents(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		s := open(persistence.Options{Policy: persistence.Group, GroupCranks: 100, GroupInterval: time.Hour})
		for i, v := range []string{"v1", "v2", "v1"} {
			require.NoError(t, s.Begin())
			s.AppendVatEvent(persistence.VatEvent{Vat: v, Incarnation: int64(i), Event: "restarted", Reason: "r", AtCrank: uint64(i)})
			_, err := s.Commit(ctx)
			require.NoError(t, err)
			if i == 1 {
				require.NoError(t, s.Flush(ctx))
			}
		}
		evs, err := s.VatEvents(ctx, "v1")
		require.NoError(t, err)
		require.Len(t, evs, 2, "flushed and unflushed")
		require.Equal(t, int64(2), evs[1].Incarnation)
		all, err := s.VatEvents(ctx, "")
		require.NoError(t, err)
		require.Len(t, all, 3)
	})
}
