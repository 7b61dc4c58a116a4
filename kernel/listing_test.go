package kernel_test

import (
	"fmt"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
)

// manyVats launches subclusters of per vats each, n vats in all, with
// parameters, and terminates one vat, so the listing has every kind.
func manyVats(t testing.TB, d *kt.Driver, n, per int) {
	for i := 0; i < n; i += per {
		names := make([]string, 0, per)
		for j := i; j < i+per && j < n; j++ {
			names = append(names, fmt.Sprintf("v%05d", j))
		}
		d.LaunchConfig(paramsCluster(names...))
	}
}

// Listing gives exactly what Vats and Subclusters give, in one pass;
// with no vats, what they give too (nil, not empty: Status encodes it).
func TestListingIsVatsAndSubclusters(t *testing.T) {
	d := kt.New(t)
	vats, subs := d.K.Listing()
	require.Nil(t, vats)
	require.Nil(t, subs)
	require.Equal(t, d.K.Vats(), vats)
	require.Equal(t, d.K.Subclusters(), subs)

	manyVats(t, d, 25, 10)
	res := d.Launch("solo", "solo")
	d.Terminate(res.VatIDs["solo"])
	vats, subs = d.K.Listing()
	require.Len(t, vats, 26)
	require.Equal(t, d.K.Vats(), vats)
	require.Equal(t, d.K.Subclusters(), subs)
	require.Len(t, subs[0].Vats, 10)

	// The caller's own copy: changing it changes no later listing.
	vats[0].Config.Parameters["n"] = 99.0
	subs[0].Config.Vats["v00000"].Parameters["n"] = 98.0
	subs[0].Vats["v00000"] = "nope"
	again, againSubs := d.K.Listing()
	require.Equal(t, 1.0, again[0].Config.Parameters["n"])
	require.Equal(t, 1.0, againSubs[0].Config.Vats["v00000"].Parameters["n"])
	require.Equal(t, vats[0].ID, againSubs[0].Vats["v00000"])
}

// allocated is the heap bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// The listing's shape: the vats' list is allocated once, at its size, the
// store's id listing is made once, and each subcluster's map of vats once,
// at its size; no list grown by appending, no second pass. With configs
// that hold nothing to copy (a bundle name only), that is under a VatInfo,
// an id and two map entries a vat (its subcluster's Vats, and the
// caller's copy of its subcluster's config).
func TestListingAllocatesOnceAVat(t *testing.T) {
	d := kt.New(t)
	d.Audit = false // setup only: the shape is the listing's
	const n, per = 4000, 100
	for i := 0; i < n; i += per {
		cfg := kernel.ClusterConfig{Vats: map[string]kernel.VatConfig{}}
		for j := i; j < i+per; j++ {
			cfg.Bootstrap = fmt.Sprintf("v%05d", j)
			cfg.Vats[cfg.Bootstrap] = kernel.VatConfig{Bundle: "fake"}
		}
		d.LaunchConfig(cfg)
	}
	d.K.Listing() // decode every config once: the cache is warm
	var vats []kernel.VatInfo
	got := allocated(func() { vats, _ = d.K.Listing() })
	require.Len(t, vats, n)
	// A map entry: its key, its value and a control byte, twice over: a
	// map sized for its entries has at most twice as many slots.
	entry := func(value uintptr) uint64 { return uint64(unsafe.Sizeof("")+value+1) * 2 }
	perVat := uint64(unsafe.Sizeof(kernel.VatInfo{})) + // its VatInfo
		uint64(unsafe.Sizeof("")) + // its id in the store's listing
		entry(unsafe.Sizeof(kernel.VatID(""))) + // its subcluster's Vats
		entry(unsafe.Sizeof(kernel.VatConfig{})) // its subcluster's Config.Vats (the caller's copy)
	budget := n * perVat
	t.Logf("Listing of %d vats allocated %d bytes, %d a vat (budget %d)", n, got, got/n, budget/n)
	require.LessOrEqual(t, got, budget)
}
