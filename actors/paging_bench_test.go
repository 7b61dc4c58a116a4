package actors_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/vat"
)

// The figure the cap is for: many launched vats, few live. Run with
//
//	go test -run '^$' -bench BenchmarkManyPageableVats -benchtime 1x ./actors/
//
// and -paging-vats, -paging-cap, -paging-batch, -paging-store to vary it
// (-paging-cap 0 measures the same vats all live, for comparison).
var (
	benchVats  = flag.Int("paging-vats", 100_000, "BenchmarkManyPageableVats: vats to launch")
	benchCap   = flag.Int("paging-cap", 1000, "BenchmarkManyPageableVats: Config.MaxLiveVats (0: no cap)")
	benchBatch = flag.Int("paging-batch", 100, "BenchmarkManyPageableVats: vats per subcluster launched")
	benchStore = flag.String("paging-store", "memory", `BenchmarkManyPageableVats: "memory" or "file"`)
	benchHeap  = flag.String("paging-heapprofile", "", "BenchmarkManyPageableVats: write a heap profile here once every vat is launched")
)

// idleRegistry has "idle", the smallest pageable vat: a root with two
// methods and nothing else.
func idleRegistry() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("idle", func(vc *vat.Context) (any, error) {
		return vat.Far("idle", vat.Methods{
			"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
			"ping":      func(*vat.Call) (any, error) { return "pong", nil },
		}), nil
	})
	return reg
}

// BenchmarkManyPageableVats launches -paging-vats small pageable vats
// under a cap of -paging-cap, then pings 1,000 of them at random (most are
// paged in for it), and reports the process's RSS and peak RSS, the live
// Go heap after a GC, the heap per launched vat, and the cost of a ping
// that pages a vat in. Each iteration is a fresh kernel.
func BenchmarkManyPageableVats(b *testing.B) {
	for i := 0; i < b.N; i++ {
		runManyVats(b, *benchVats, *benchCap, *benchBatch)
	}
}

func runManyVats(b *testing.B, n, max, batch int) {
	ctx := context.Background()
	cfg := actors.Config{Registry: idleRegistry(), MaxLiveVats: max, CommitPolicy: persistence.Group,
		GroupCranks: 1000, GroupInterval: time.Second}
	if *benchStore == "file" {
		cfg.DBPath = filepath.Join(b.TempDir(), "many.db")
	}
	k, err := actors.Start(ctx, cfg)
	require.NoError(b, err)
	defer k.Stop(ctx)
	heapBefore := liveHeap()
	began := time.Now()
	var roots []kernel.KRef
	for len(roots) < n {
		c := kernel.ClusterConfig{Vats: map[string]kernel.VatConfig{}}
		for j := 0; j < batch && len(roots)+j < n; j++ {
			name := fmt.Sprintf("v%05d", j)
			c.Vats[name] = kernel.VatConfig{Bundle: "idle", Pageable: true}
			c.Bootstrap = name
		}
		res, err := k.LaunchSubcluster(ctx, c)
		require.NoError(b, err)
		for _, r := range res.Roots {
			roots = append(roots, r)
		}
		// Let go of the host's pins on the bootstrap result's objects:
		// none here (bootstrap returns nil), so nothing to release.
	}
	require.NoError(b, k.WaitIdle(ctx))
	launch := time.Since(began)
	// Measured before Status, whose answer (every vat's info) the
	// benchmark would otherwise hold in the heap it measures.
	heap := liveHeap()
	rss, peak := rssKiB()
	if *benchHeap != "" {
		// While the kernel holds every vat: what the heap is made of.
		f, err := os.Create(*benchHeap)
		require.NoError(b, err)
		require.NoError(b, pprof.WriteHeapProfile(f))
		require.NoError(b, f.Close())
	}

	st, err := k.Status(ctx)
	require.NoError(b, err)
	if max > 0 {
		require.LessOrEqual(b, st.LiveVats, max, "the cap")
	}

	// Pings to vats at random: nearly all are paged out, so each pages
	// one in (and another out).
	rng := rand.New(rand.NewPCG(1, 2))
	const pings = 1000
	before := st.PagedInCount
	pt := time.Now()
	for range pings {
		v, err := k.QueueMessage(ctx, roots[rng.IntN(len(roots))], "ping")
		require.NoError(b, err)
		require.Equal(b, "pong", v)
	}
	perPing := time.Since(pt) / pings
	_, peak = rssKiB()
	st, err = k.Status(ctx)
	require.NoError(b, err)
	if max > 0 {
		require.LessOrEqual(b, st.LiveVats, max, "the cap, after the pings")
	}
	b.ReportMetric(float64(rss)/1024, "RSS-MiB")
	b.ReportMetric(float64(peak)/1024, "peakRSS-MiB")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(heap-heapBefore)/float64(n), "heapB/vat")
	b.ReportMetric(launch.Seconds(), "launch-s")
	b.ReportMetric(float64(perPing.Microseconds()), "µs/ping")
	b.ReportMetric(float64(st.LiveVats), "live")
	b.Logf("%d vats (cap %d, %s store): launched in %v; RSS %d MiB (peak %d), live heap %d MiB (%d B a vat); %d live; %d of %d pings paged a vat in, %v each",
		n, max, *benchStore, launch.Round(time.Millisecond), rss/1024, peak/1024, heap>>20, (heap-heapBefore)/uint64(n),
		st.LiveVats, st.PagedInCount-before, pings, perPing)
}

// liveHeap is the Go heap in use after a full collection, in bytes.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// rssKiB reads this process's resident set and its peak from
// /proc/self/status (Linux), in KiB; 0 elsewhere.
func rssKiB() (rss, peak uint64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	for s := bufio.NewScanner(f); s.Scan(); {
		fields := strings.Fields(s.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseUint(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			peak = v
		}
	}
	return rss, peak
}
