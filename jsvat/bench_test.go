//go:build jsvat

package jsvat_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/jsvat"
	"github.com/ocapgo/kernel-actors/kernel"
)

// Benchmarks of JavaScript vats: the crank rate of ping-pong between two
// of them (in memory), the time to launch one, and the memory of an idle
// one. Run with
//
//	go test -run '^$' -bench . -benchtime 2000x ./jsvat/
//
// (ping-pong's iterations are round trips, two cranks each).

// BenchmarkJSPingPong: b.N round trips between two JavaScript vats, each
// two cranks (the ping; the notify of its answer), in one host request,
// after a warm-up of round trips on the same vats:
//
//   - jit=cold: 100 round trips. The timed ones then run mostly while V8
//     is still compiling the workers' code (liveslots, marshal, SES):
//     a fresh worker uses about twice the CPU a round trip for its first
//     few thousand deliveries, until its hot functions are optimized.
//   - jit=warm: jitWarmupRoundTrips round trips, so that the timed ones
//     run at the rate of a vat that has been running a while (any vat
//     after its first few seconds of work).
//
// Each with the workers' default Options.TierUpBudget and, as
// tierup=v8, with V8's own budget: the pair shows what the lower budget
// buys a fresh worker (and costs a warm one).
func BenchmarkJSPingPong(b *testing.B) {
	for _, c := range []struct {
		name   string
		warmup int
	}{{"jit=cold", 100}, {"jit=warm", jitWarmupRoundTrips}} {
		for _, t := range []struct {
			name   string
			budget int
		}{{"tierup=default", 0}, {"tierup=v8", -1}} {
			b.Run(c.name+"/"+t.name, func(b *testing.B) {
				benchPingPong(b, c.warmup, jsvat.Options{TierUpBudget: t.budget})
			})
		}
	}
}

// jitWarmupRoundTrips is the warm-up of BenchmarkJSPingPong/jit=warm. A
// worker's CPU a round trip stops falling after 3,000-4,000 of them on
// the development machine (2 shared cores), where V8's optimizing
// compiler runs on a background thread that competes for a core.
const jitWarmupRoundTrips = 5000

func benchPingPong(b *testing.B, warmup int, opts jsvat.Options) {
	ctx := context.Background()
	rt := newRuntime(b, opts)
	k := startKernel(b, actors.Config{JS: rt})
	res, err := k.LaunchSubcluster(ctx, pingPongCluster(b))
	require.NoError(b, err)
	_, err = k.QueueMessage(ctx, res.RootKref, "run", warmup)
	require.NoError(b, err)
	before, err := k.Status(ctx)
	require.NoError(b, err)
	// CPU time, the kernel's process and the two workers', is the figure a
	// loaded machine changes least: wall time there is mostly waiting for
	// a core.
	pids := rt.PIDs()
	goCPU, jsCPU := cpuSeconds(b, "self"), 0.0
	for _, p := range pids {
		jsCPU -= cpuSeconds(b, strconv.Itoa(p))
	}
	b.ResetTimer()
	began := time.Now()
	v, err := k.QueueMessage(ctx, res.RootKref, "run", b.N)
	elapsed := time.Since(began)
	b.StopTimer()
	goCPU = cpuSeconds(b, "self") - goCPU
	for _, p := range pids {
		jsCPU += cpuSeconds(b, strconv.Itoa(p))
	}
	require.NoError(b, err)
	require.Equal(b, int64(b.N), v)
	after, err := k.Status(ctx)
	require.NoError(b, err)
	cranks := after.Cranks - before.Cranks
	b.ReportMetric(float64(cranks)/elapsed.Seconds(), "cranks/s")
	b.ReportMetric(float64(cranks)/float64(b.N), "cranks/op")
	if runtime.GOOS == "linux" {
		b.ReportMetric(goCPU/float64(b.N)*1e6, "kernel-cpu-µs/op")
		b.ReportMetric(jsCPU/float64(b.N)*1e6, "worker-cpu-µs/op")
	}
}

// cpuSeconds is the user and system CPU time a process has used, from
// /proc/PID/stat (pid "self" for this one), in seconds.
func cpuSeconds(b testing.TB, pid string) float64 {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	require.NoError(b, err)
	// Fields after the command name, which is in parentheses and may hold
	// spaces: utime and stime are the 12th and 13th of them, in clock ticks
	// (100 a second on Linux).
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	require.Greater(b, len(f), 12, "short /proc/%s/stat", pid)
	utime, err := strconv.ParseFloat(f[11], 64)
	require.NoError(b, err)
	stime, err := strconv.ParseFloat(f[12], 64)
	require.NoError(b, err)
	return (utime + stime) / 100
}

// BenchmarkJSLaunch: launching a one-vat subcluster of a bundled
// JavaScript vat (its bootstrap answered), with no warm worker and with
// one, and with the worker run from its bundle (dist/worker.mjs, the
// default) and from its sources.
func BenchmarkJSLaunch(b *testing.B) {
	for _, c := range []struct {
		warm      int
		unbundled bool
		iife      bool
	}{{0, false, false}, {0, true, false}, {0, false, true}, {1, false, false}, {1, true, false}, {1, false, true}} {
		name := fmt.Sprintf("warm=%d/worker=bundle", c.warm)
		if c.unbundled {
			name = fmt.Sprintf("warm=%d/worker=src", c.warm)
		}
		// The vat as an endoZipBase64 bundle, or in ocap-kernel's iife
		// format, which loads without an archive to unpack.
		if c.iife {
			name += "/vat=iife"
		} else {
			name += "/vat=endoZip"
		}
		warm := c.warm
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			rt := newRuntime(b, jsvat.Options{Warm: warm, Unbundled: c.unbundled})
			k := startKernel(b, actors.Config{JS: rt})
			spec := bundleOf(b, "echo.js")
			if c.iife {
				spec = jsvat.IifeBundle(b, "echo.js")
			}
			cfg := kernel.ClusterConfig{Bootstrap: "echo", Vats: map[string]kernel.VatConfig{
				"echo": {BundleSpec: spec},
			}}
			waitWarm := func() {
				// The replacement warm worker starts in the background; a
				// launch timed while it starts would measure both.
				eventually(b, func() bool { return len(rt.PIDs()) == warm }, "the warm worker is up")
				time.Sleep(time.Duration(warm) * 500 * time.Millisecond) // and has loaded liveslots
			}
			waitWarm()
			b.ResetTimer()
			for range b.N {
				res, err := k.LaunchSubcluster(ctx, cfg)
				require.NoError(b, err)
				b.StopTimer()
				require.NoError(b, k.TerminateSubcluster(ctx, res.SubclusterID))
				waitWarm()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkJSIdleMemory reports the resident memory of an idle
// JavaScript vat's worker, from /proc:
//
//   - after=launch: a bundled vat after its bootstrap, the worker of each
//     of b.N launches in turn;
//   - after=deliveries: each of the two workers of ping-pong once it has
//     handled idleDeliveries deliveries (half of them each) and is idle,
//     their mean. V8's young generation grows with the work done (it
//     starts at 1 MiB a semi-space and may grow to 16), and the JIT's code
//     and feedback with the functions that ran, so a vat that has worked
//     holds more than one just started.
func BenchmarkJSIdleMemory(b *testing.B) {
	b.Run("after=launch", func(b *testing.B) {
		ctx := context.Background()
		rt := newRuntime(b, jsvat.Options{})
		k := startKernel(b, actors.Config{JS: rt})
		var rss []float64
		for range b.N {
			res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "echo", Vats: map[string]kernel.VatConfig{
				"echo": {BundleSpec: bundleOf(b, "echo.js")},
			}})
			require.NoError(b, err)
			pids := rt.PIDs()
			require.Len(b, pids, 1)
			rss = append(rss, rssMiB(b, pids[0]))
			require.NoError(b, k.TerminateSubcluster(ctx, res.SubclusterID))
			eventually(b, func() bool { return len(rt.PIDs()) == 0 }, "the worker is gone")
		}
		b.ReportMetric(mean(rss), "MiB-RSS")
	})
	b.Run("after=deliveries", func(b *testing.B) {
		ctx := context.Background()
		rt := newRuntime(b, jsvat.Options{})
		k := startKernel(b, actors.Config{JS: rt})
		var rss []float64
		for range b.N {
			res, err := k.LaunchSubcluster(ctx, pingPongCluster(b))
			require.NoError(b, err)
			// Two deliveries a round trip, one to each worker.
			_, err = k.QueueMessage(ctx, res.RootKref, "run", idleDeliveries/2)
			require.NoError(b, err)
			pids := rt.PIDs()
			require.Len(b, pids, 2)
			for _, p := range pids {
				rss = append(rss, rssMiB(b, p))
			}
			require.NoError(b, k.TerminateSubcluster(ctx, res.SubclusterID))
			eventually(b, func() bool { return len(rt.PIDs()) == 0 }, "the workers are gone")
		}
		b.ReportMetric(mean(rss), "MiB-RSS")
	})
}

// idleDeliveries is how many deliveries the two workers of
// BenchmarkJSIdleMemory/after=deliveries handle before their memory is
// read.
const idleDeliveries = 10000

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// rssMiB reads a process's resident set size.
func rssMiB(b testing.TB, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(b, err)
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			require.NoError(b, err)
			return kb / 1024
		}
	}
	b.Fatalf("no VmRSS for pid %d", pid)
	return 0
}
