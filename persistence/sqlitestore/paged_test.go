package sqlitestore

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/persistence"
)

var pagedSeed = flag.Uint64("paged-seed", 0, "seed of TestPagedTablesMatchAModel's operations (0: a new one, printed)")

// The paged tables, read through every layer (the open unit, committed
// units not yet flushed, a small cache, the backend), answer as a plain
// map of the same writes does: point reads, counts, partition listings,
// kref and vref ranges, the by-vref index and the run queue, through
// random puts, deletes, commits, aborts, group flushes and reopenings.
// Verify finds nothing after every flush, and the cache stays within its
// bound.
func TestPagedTablesMatchAModel(t *testing.T) {
	seed := *pagedSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay: -paged-seed=%d)", seed, seed)
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(seed, 1))
		const cacheRows = 8
		opts := persistence.Options{Policy: persistence.Group, GroupCranks: 5, GroupInterval: time.Hour, CacheRows: cacheRows, PagedMemory: true}
		s := open(opts)

		// The model: committed state, and the open unit's copy of it.
		type entry struct {
			vref string
			row  persistence.CListRow
		}
		objects := map[string]persistence.ObjectRow{}
		clist := map[persistence.CListKey]entry{}
		var queue []persistence.QueueItem
		vs := map[persistence.VatstoreKey]string{}
		var mVS map[persistence.VatstoreKey]string
		var mObjects map[string]persistence.ObjectRow
		var mCList map[persistence.CListKey]entry
		var mQueue []persistence.QueueItem
		vats := []string{"v1", "v2", "v3"}
		kref := func() string {
			if rng.IntN(4) == 0 {
				return "kp" + strconv.Itoa(1+rng.IntN(30))
			}
			return "ko" + strconv.Itoa(1+rng.IntN(60))
		}
		vrefFor := func(vat, kr string) string {
			// A vref is fixed per (vat, kref), and unique per vat.
			n := kr[2:]
			switch {
			case kr[1] == 'p':
				return "p+" + n
			case len(n)%2 == 0:
				return "o+d1/" + n
			case n[0] == '1':
				return "o+v2/" + n
			}
			return "o+" + n
		}
		check := func(step int) {
			for i := 1; i <= 60; i++ {
				k := "ko" + strconv.Itoa(i)
				got, ok := s.Object(k)
				want, wok := mObjects[k]
				require.Equal(t, wok, ok, "step %d: object %s exists", step, k)
				require.Equal(t, want, got, "step %d: object %s", step, k)
			}
			require.Equal(t, len(mObjects), s.ObjectCount(), "step %d: object count", step)
			keys := make([]string, 0, len(mObjects))
			for k := range mObjects {
				keys = append(keys, k)
			}
			require.ElementsMatch(t, keys, s.ObjectKRefs(), "step %d: object listing", step)
			for _, vat := range vats {
				var all, promises, eph []string
				for k, e := range mCList {
					if k.Vat != vat {
						continue
					}
					all = append(all, k.KRef)
					if k.KRef[1] == 'p' {
						promises = append(promises, k.KRef)
					}
					if e.vref >= "o+" && e.vref < "o+d" {
						eph = append(eph, k.KRef)
					}
					kr, ok := s.KRefOf(vat, e.vref)
					require.True(t, ok, "step %d: by-vref %s/%s", step, vat, e.vref)
					require.Equal(t, k.KRef, kr)
					got, ok := s.CList(vat, k.KRef)
					require.True(t, ok)
					require.Equal(t, e.row, got)
				}
				require.ElementsMatch(t, all, s.CListKRefs(vat), "step %d: c-list of %s", step, vat)
				require.ElementsMatch(t, promises, s.CListKRefsBetween(vat, "kp", "kq"), "step %d: promises of %s", step, vat)
				require.ElementsMatch(t, eph, s.CListKRefsByVRef(vat, "o+", "o+d"), "step %d: vref range of %s", step, vat)
			}
			for i := 1; i <= 60; i++ {
				kr := "ko" + strconv.Itoa(i)
				var holders []string
				for _, vat := range vats {
					if _, ok := mCList[persistence.CListKey{Vat: vat, KRef: kr}]; ok {
						holders = append(holders, vat)
					} else {
						_, ok := s.KRefOf(vat, vrefFor(vat, kr))
						require.False(t, ok, "step %d: by-vref %s/%s after its entry went", step, vat, vrefFor(vat, kr))
					}
				}
				got := s.Holders(kr)
				slices.Sort(got)
				require.Equal(t, holders, append([]string(nil), got...), "step %d: holders of %s", step, kr)
			}
			var vsVats []string
			for _, vat := range vats {
				var keys []string
				for k, v := range mVS {
					if k.Vat == vat {
						keys = append(keys, k.Key)
						got, ok := s.VatstoreGet(vat, k.Key)
						require.True(t, ok, "step %d: vatstore %s/%q", step, vat, k.Key)
						require.Equal(t, v, got)
					}
				}
				slices.Sort(keys)
				if len(keys) > 0 {
					vsVats = append(vsVats, vat)
				}
				got := s.VatstoreKeys(vat)
				if len(got) == 0 {
					got = nil
				}
				require.Equal(t, keys, got, "step %d: vatstore keys of %s", step, vat)
			}
			require.Equal(t, vsVats, nilIfEmpty(s.VatstoreVats()), "step %d: vatstore vats", step)
			require.Equal(t, len(mQueue), s.QueueLen(), "step %d: queue length", step)
			require.Equal(t, normQueue(mQueue), normQueue(s.QueueItems()), "step %d: queue", step)
		}
		begin := func() {
			require.NoError(t, s.Begin())
			mObjects = maps(objects)
			mCList = maps(clist)
			mQueue = slices.Clone(queue)
			mVS = maps(vs)
		}
		for step := 0; step < 400; step++ {
			begin()
			for range 1 + rng.IntN(6) {
				switch rng.IntN(8) {
				case 6:
					// Keys near each other, the empty key among them, so
					// that seeks cross deleted and unflushed ones.
					k := persistence.VatstoreKey{Vat: vats[rng.IntN(3)], Key: strconv.Itoa(rng.IntN(20))}
					if k.Key == "19" {
						k.Key = ""
					}
					v := "v" + strconv.Itoa(step)
					s.VatstoreSet(k.Vat, k.Key, v)
					mVS[k] = v
				case 7:
					k := persistence.VatstoreKey{Vat: vats[rng.IntN(3)], Key: strconv.Itoa(rng.IntN(20))}
					s.VatstoreDelete(k.Vat, k.Key)
					delete(mVS, k)
				case 0, 1:
					k := "ko" + strconv.Itoa(1+rng.IntN(60))
					r := persistence.ObjectRow{Owner: vats[rng.IntN(3)], Reachable: int64(rng.IntN(3))}
					r.Recognizable = r.Reachable
					s.PutObject(k, r)
					mObjects[k] = r
				case 2:
					k := "ko" + strconv.Itoa(1+rng.IntN(60))
					s.DeleteObject(k)
					delete(mObjects, k)
				case 3:
					vat, kr := vats[rng.IntN(3)], kref()
					row := persistence.CListRow{VRef: vrefFor(vat, kr), Reachable: rng.IntN(2) == 0}
					s.PutCList(vat, kr, row)
					mCList[persistence.CListKey{Vat: vat, KRef: kr}] = entry{row.VRef, row}
				case 4:
					vat, kr := vats[rng.IntN(3)], kref()
					s.DeleteCList(vat, kr)
					delete(mCList, persistence.CListKey{Vat: vat, KRef: kr})
				case 5:
					if len(mQueue) > 0 && rng.IntN(2) == 0 {
						it, ok := s.Dequeue()
						require.True(t, ok)
						require.Equal(t, mQueue[0], normItem(it))
						mQueue = mQueue[1:]
					} else {
						it := persistence.QueueItem{Kind: persistence.QueueNotify, Vat: vats[rng.IntN(3)], KPID: fmt.Sprintf("kp%d", step)}
						s.Enqueue(it)
						mQueue = append(mQueue, it)
					}
				}
			}
			check(step)
			if rng.IntN(5) == 0 {
				s.Abort()
			} else {
				_, err := s.Commit(ctx)
				require.NoError(t, err)
				objects, clist, queue, vs = mObjects, mCList, mQueue, mVS
			}
			mObjects, mCList, mQueue, mVS = maps(objects), maps(clist), slices.Clone(queue), maps(vs)
			check(step)
			if s.Unflushed() == 0 {
				mustVerify(t, s)
			}
			st := s.Stats()
			require.LessOrEqual(t, st.Cached, 8*(2*cacheRows)+5*6*3, "step %d: the paged tables hold more than their caches and a group's rows", step)
			if rng.IntN(50) == 0 {
				require.NoError(t, s.Close(ctx))
				s = open(opts)
				if s.Path() == "" {
					// A fresh in-memory store: the state went with it.
					objects, clist, queue, vs = map[string]persistence.ObjectRow{}, map[persistence.CListKey]entry{}, nil, map[persistence.VatstoreKey]string{}
					mObjects, mCList, mQueue, mVS = maps(objects), maps(clist), nil, maps(vs)
				}
				check(step)
			}
		}
	})
}

func maps[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// normItem and normQueue make an empty slot list nil, as the model has it.
func normItem(it persistence.QueueItem) persistence.QueueItem {
	if len(it.Message.Methargs.Slots) == 0 {
		it.Message.Methargs.Slots = nil
	}
	return it
}

func normQueue(q []persistence.QueueItem) []persistence.QueueItem {
	if len(q) == 0 {
		return nil
	}
	for i := range q {
		q[i] = normItem(q[i])
	}
	return q
}

func nilIfEmpty(xs []string) []string {
	if len(xs) == 0 {
		return nil
	}
	return xs
}

// A row keyed by a kref handed out after the last flush (an object, a
// promise, its queue, a c-list entry for it) cannot be in the file, so a
// paged table answers for it without a read; an older kref's row is read,
// and so is a row above a rewound counter that this store did not hand
// out. After the flush the new kref is an old one, and its rows are found.
func TestKRefsNewerThanTheFlushNeedNoRead(t *testing.T) {
	storeKinds(t, func(t *testing.T, open func(persistence.Options) *persistence.Store) {
		ctx := context.Background()
		s := open(persistence.Options{Policy: persistence.Group, GroupCranks: 100, GroupInterval: time.Hour, PagedMemory: true})
		unit := func(fn func()) {
			require.NoError(t, s.Begin())
			fn()
			_, err := s.Commit(ctx)
			require.NoError(t, err)
		}
		var old, fresh string
		unit(func() {
			old = "ko" + strconv.FormatUint(s.NextID(persistence.MetaNextObject), 10)
			s.PutObject(old, persistence.ObjectRow{Owner: "v1"})
			s.PutCList("v1", old, persistence.CListRow{VRef: "o+1", Reachable: true})
		})
		require.NoError(t, s.Flush(ctx))
		before := s.Stats().Reads
		unit(func() {
			fresh = "kp" + strconv.FormatUint(s.NextID(persistence.MetaNextPromise), 10)
			_, ok := s.CList("v2", fresh)
			require.False(t, ok)
			_, ok = s.Promise(fresh)
			require.False(t, ok)
			_, ok = s.QueuedMessage(fresh, 0)
			require.False(t, ok)
			_, ok = s.KRefOf("v2", "p+77")
			require.False(t, ok)
			require.Equal(t, before, s.Stats().Reads, "a kref newer than the flush, and a promise vref, are read from nowhere")
			_, ok = s.CList("v2", old)
			require.False(t, ok)
			require.Equal(t, before+1, s.Stats().Reads, "an older kref's row is read")
			_, ok = s.Promise("kp9")
			require.False(t, ok)
			require.Equal(t, before+2, s.Stats().Reads, "a kref above the counter that was not handed out is read")
			s.PutPromise(fresh, persistence.PromiseRow{State: persistence.PromiseUnresolved, Decider: "v2", RefCount: 1})
			s.PutCList("v2", fresh, persistence.CListRow{VRef: "p+1", Reachable: true})
		})
		_, ok := s.CList("v2", fresh)
		require.True(t, ok, "the committed, unflushed entry is seen")
		require.NoError(t, s.Flush(ctx))
		if s.Path() != "" {
			require.NoError(t, s.Close(ctx))
			s = open(persistence.Options{})
		}
		_, ok = s.CList("v2", fresh)
		require.True(t, ok, "flushed, the entry is found")
		_, ok = s.Promise(fresh)
		require.True(t, ok)
		mustVerify(t, s)
	})
}
