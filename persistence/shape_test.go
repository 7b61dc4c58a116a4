package persistence

import (
	"context"
	"reflect"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// storeKinds runs fn on the in-memory store. (The table maps are the
// same code over either backend; package sqlitestore runs the shared
// contract tests against both.)
func storeKinds(t *testing.T, fn func(t *testing.T, open func(opts Options) *Store)) {
	fn(t, func(opts Options) *Store {
		s, err := OpenMemory(opts)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close(context.Background()) })
		return s
	})
}

func mustVerify(t *testing.T, s *Store) {
	t.Helper()
	diffs, err := s.Verify(context.Background(), 0)
	require.NoError(t, err)
	require.Empty(t, diffs)
}

// mapID identifies a Go map, so a test can tell a map cleared for reuse
// from one replaced by a fresh map.
func mapID(m any) uintptr { return uintptr(reflect.ValueOf(m).UnsafePointer()) }

// bigUnit is how many rows the big units below write: twenty times
// maxKeptMap.
const bigUnit = 20_000

// A unit that writes more than maxKeptMap rows leaves its table with a
// fresh overlay and, once flushed, a fresh dirty set; deleting most of a
// big table gives it a fresh base map; small units keep reusing theirs.
// (Ranging over or clearing a Go map costs its capacity, not its length,
// so a kept big map would slow every later unit.)
func TestBigUnitReplacesMaps(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(Options) *Store) {
		s := open(Options{PagedMemory: true})
		unit := func(fn func()) {
			t.Helper()
			require.NoError(t, s.Begin())
			fn()
			_, err := s.Commit(ctx)
			require.NoError(t, err)
		}
		kref := func(i int) string { return "ko" + strconv.Itoa(i) }
		unit(func() { s.PutObject(kref(0), ObjectRow{Owner: "v1"}) })
		// The in-memory backend holds the committed rows of the paged
		// tables; the store's own base holds only unflushed ones.
		mem := s.be.(*memBackend)
		objs, vs := s.tabs.Objects, s.tabs.Vatstore.paged
		// A small unit's overlay and dirty set stay in their slices.
		unit(func() {
			s.PutObject(kref(1), ObjectRow{Owner: "v1"})
			s.VatstoreSet("v1", "k", "v")
		})
		require.Nil(t, objs.over.m, "a small unit's overlay needs no map")
		require.Nil(t, objs.dirty.m, "a small flush's dirty set needs no map")
		require.Nil(t, vs.over.m)
		require.Nil(t, vs.dirty.m)
		require.Zero(t, objs.over.len()+objs.dirty.len()+vs.over.len()+vs.dirty.len())

		// A unit of a hundred rows moves them to maps, which later units
		// clear in place.
		medium := func() {
			for i := 2; i < 102; i++ {
				s.PutObject(kref(i), ObjectRow{Owner: "v1"})
				s.VatstoreSet("v1", "k"+strconv.Itoa(i), "v")
			}
		}
		unit(medium)
		over, dirty := mapID(objs.over.m), mapID(objs.dirty.m)
		vsOver, vsDirty := mapID(vs.over.m), mapID(vs.dirty.m)
		require.NotZero(t, over*dirty*vsOver*vsDirty, "a unit past smallKeys uses maps")
		unit(medium)
		require.Equal(t, over, mapID(objs.over.m), "a map that held few keys is cleared in place")
		require.Equal(t, dirty, mapID(objs.dirty.m))
		require.Equal(t, vsOver, mapID(vs.over.m))
		require.Equal(t, vsDirty, mapID(vs.dirty.m))

		// One big unit: objects, c-list entries (partitioned by vat) and
		// vatstore entries.
		unit(func() {
			for i := 2; i < bigUnit+2; i++ {
				s.PutObject(kref(i), ObjectRow{Owner: "v1"})
				s.PutCList("v1", kref(i), CListRow{VRef: "o+" + strconv.Itoa(i)})
				s.VatstoreSet("v1", "k"+strconv.Itoa(i), "v")
			}
		})
		require.Nil(t, objs.over.m, "the overlay of a big unit is dropped")
		require.Nil(t, objs.dirty.m, "the dirty set of a big flush is dropped")
		require.Nil(t, vs.over.m)
		require.Nil(t, vs.dirty.m)
		require.LessOrEqual(t, cap(objs.over.small), smallKeys, "and the slice is the small one")
		base := mapID(mem.objects.truth.base)
		part := mapID(mem.clist.truth.parts[clistByVat].sets["v1"].keys)

		// An aborted big unit drops its overlay too.
		require.NoError(t, s.Begin())
		for i := 0; i < bigUnit; i++ {
			s.PutObject("ko-x"+strconv.Itoa(i), ObjectRow{Owner: "v2"})
		}
		require.NotNil(t, objs.over.m)
		s.Abort()
		require.Nil(t, objs.over.m, "the overlay of an aborted big unit is dropped")
		require.Zero(t, objs.over.len())

		// Deleting all but a few rows of a big table replaces its base
		// and the vat's c-list partition.
		unit(func() {
			for i := 10; i < bigUnit+2; i++ {
				s.DeleteObject(kref(i))
				s.DeleteCList("v1", kref(i))
			}
		})
		require.Equal(t, 10, s.ObjectCount())
		require.NotEqual(t, base, mapID(mem.objects.truth.base), "a base that lost most of its rows is replaced")
		require.Len(t, mem.objects.truth.base, 10)
		require.Empty(t, s.tabs.Objects.base, "a paged table without a cache keeps no flushed rows")
		require.NotEqual(t, part, mapID(mem.clist.truth.parts[clistByVat].sets["v1"].keys), "a partition that lost most of its keys is replaced")
		require.Len(t, s.CListKRefs("v1"), 8)
		mustVerify(t, s)
	})
}

// Every table's dirty set is empty once a flush has written it, derived
// tables included (they are never written, so they must never collect
// dirty keys: a set nobody clears grows with every crank), and an abort
// adds nothing to any.
func TestDirtySetsEmptyAfterFlush(t *testing.T) {
	ctx := context.Background()
	storeKinds(t, func(t *testing.T, open func(Options) *Store) {
		s := open(Options{})
		requireClean := func(when string) {
			t.Helper()
			for i, l := range s.foldables() {
				require.Zero(t, l.dirtyLen(), "%s: table %d of foldables has dirty keys", when, i)
			}
		}
		for i := 0; i < 50; i++ {
			require.NoError(t, s.Begin())
			kref := "ko" + strconv.Itoa(i)
			s.PutObject(kref, ObjectRow{Owner: "v1"})
			s.PutCList("v1", kref, CListRow{VRef: "o+" + strconv.Itoa(i)})
			s.Enqueue(QueueItem{Kind: QueueNotify, Vat: "v1", KPID: "kp1"})
			if i > 0 {
				s.DeleteCList("v1", "ko"+strconv.Itoa(i-1))
				s.Dequeue()
			}
			_, err := s.Commit(ctx)
			require.NoError(t, err)
			requireClean("after a durable commit")

			require.NoError(t, s.Begin())
			s.PutCList("v2", kref, CListRow{VRef: "o-" + strconv.Itoa(i)})
			s.Dequeue()
			s.Abort()
			requireClean("after an abort")
		}
		require.Len(t, s.CListKRefs("v1"), 1)
		mustVerify(t, s)
	})
}

// The c-list's partitions (by vat, by kref) stay equal to the c-list as
// they grow past smallPart (slice to map) and shrink again, through
// commits and aborts, and Verify notices one that drifts.
func TestCListPartitions(t *testing.T) {
	ctx := context.Background()
	s, err := OpenMemory(Options{PagedMemory: true})
	require.NoError(t, err)
	defer s.Close(ctx)
	vat := func(i int) string { return "v" + strconv.Itoa(i) }
	unit := func(commit bool, fn func()) {
		require.NoError(t, s.Begin())
		fn()
		if commit {
			_, err := s.Commit(ctx)
			require.NoError(t, err)
		} else {
			s.Abort()
		}
	}
	n := 3 * smallPart
	unit(true, func() {
		for i := 1; i <= n; i++ {
			s.PutCList(vat(i), "ko1", CListRow{VRef: "o-1"})
		}
	})
	require.Len(t, s.Holders("ko1"), n)
	unit(false, func() {
		for i := 1; i <= n; i++ {
			s.DeleteCList(vat(i), "ko1")
		}
		require.Empty(t, s.Holders("ko1"), "the open unit sees its deletes")
	})
	require.Len(t, s.Holders("ko1"), n, "an abort leaves every holder")
	unit(true, func() {
		for i := 3; i <= n; i++ {
			s.DeleteCList(vat(i), "ko1")
		}
	})
	require.Equal(t, []string{"v1", "v2"}, s.Holders("ko1"))
	require.Equal(t, []string{"ko1"}, s.CListKRefs("v2"))
	require.Empty(t, s.CListKRefs("v3"))
	mustVerify(t, s)

	// A partition that drifts from the c-list is a Verify finding.
	s.be.(*memBackend).clist.truth.parts[clistByKRef].sets["ko1"].remove(CListKey{"v1", "ko1"})
	diffs, err := s.Verify(ctx, 0)
	require.NoError(t, err)
	require.NotEmpty(t, diffs)
	require.Contains(t, diffs[0], `partition 1 "ko1"`)
}
