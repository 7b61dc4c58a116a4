package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/demos/demotest"
	"github.com/ocapgo/kernel-actors/vat"
)

// The whole story in memory, on synctest's clock: the failed job's caller
// hears, its count is rolled back, the vat comes back as incarnation 1;
// the doomed vat is restarted twice, then terminated, with every decision
// in its log; the worker serves on; the counter counts.
func TestStory(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, Demo().Run(context.Background(), demos.Options{Out: &out}))
		got := out.String()
		for _, want := range []string{
			"work(3) = 9\n",
			"The worker's durable tally (in its baggage): 2 jobs.",
			"The caller gets an error at once: [KERNEL:VAT_FATAL:INTERNAL_ERROR] vat failed: panic: cannot work on -1",
			"work(5) = 25",
			"The tally is 3, not 4",
			"PingVat(v2): incarnation 1",
			"  incarnation 0, crank 5: failed: [KERNEL:VAT_FATAL:INTERNAL_ERROR] vat failed: panic: cannot work on -1\n" +
				"  incarnation 1, crank 5: restarted: restart policy\n",
			"  poison #3: the vat failed",
			"  poison #4 is refused, the vat being gone with its objects: [KERNEL:OBJECT_DELETED]",
			"Meanwhile the worker v2 serves on: work(6) = 36.",
			"Launched a counter, in memory",
			"incr -> 3\n",
		} {
			require.Contains(t, got, want)
		}
		require.NotContains(t, got, "run again on", "nothing to run again on in memory")

		// The doomed vat's log: two restarts, then termination.
		doomed := got[strings.Index(got, "VatLog(v1)"):]
		events := regexp.MustCompile(`(?m)^  incarnation (\d+), crank \d+: (\w+):`).FindAllStringSubmatch(doomed, -1)
		var seq []string
		for _, e := range events {
			seq = append(seq, e[1]+" "+e[2])
		}
		require.Equal(t, []string{"0 failed", "1 restarted", "1 failed", "2 restarted", "2 failed", "2 terminated"}, seq)
		require.Contains(t, doomed, "terminated: failed 3 times within 1m0s; giving up")
	})
}

// On a file, the counter of one run is found by the next, which goes on
// counting; the workers of the first run are not resumed by the second.
func TestRunContinuesCounter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supervised.db")
	var first, second bytes.Buffer
	require.NoError(t, Demo().Run(context.Background(), demos.Options{Out: &first, DBPath: path}))
	require.Contains(t, first.String(), "Launched a new counter in "+path)
	require.Contains(t, first.String(), "the count goes on from 3.")
	require.NoError(t, Demo().Run(context.Background(), demos.Options{Out: &second, DBPath: path}))
	require.Contains(t, second.String(), "Found the counter of an earlier run in "+path+": its count is 3.")
	require.Contains(t, second.String(), "incr -> 4\nincr -> 5\nincr -> 6\n")
	// The second run's workers are new vats: the first run's were
	// terminated with their subcluster, not resumed.
	require.Contains(t, second.String(), "Two vats of bundle \"supervised/worker\", v5 (worker) and v4 (doomed)")
}

// Count resumes the counter where the last acknowledged increment left it.
func TestCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "count.db")
	var out bytes.Buffer
	require.NoError(t, Count(context.Background(), demos.Options{Out: &out, DBPath: path}, 2))
	require.NoError(t, Count(context.Background(), demos.Options{Out: &out, DBPath: path}, 2))
	require.Equal(t, "counter at 0\ncount 1\ncount 2\ncounter at 2\ncount 3\ncount 4\n", out.String())
}

// Count until told to stop: a cancelled context ends it without error,
// and what it acknowledged is kept.
func TestCountUntilCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "count.db")
	ctx, cancel := context.WithCancel(context.Background())
	w := &cancelAfter{n: 5, cancel: cancel}
	require.NoError(t, Count(ctx, demos.Options{Out: w, DBPath: path}, 0))
	require.Equal(t, 5, len(w.counts), "the counts, each once")
	last := w.counts[len(w.counts)-1]
	var out bytes.Buffer
	require.NoError(t, Count(context.Background(), demos.Options{Out: &out, DBPath: path}, 1))
	var at int64
	_, err := fmt.Sscanf(out.String(), "counter at %d\n", &at)
	require.NoError(t, err)
	require.GreaterOrEqual(t, at, last, "an acknowledged increment was lost")
	require.LessOrEqual(t, at, last+1, "only the increment in flight may be unacknowledged")
}

// Register adds both bundles, under the demo's prefix.
func TestRegister(t *testing.T) {
	reg := vat.NewRegistry()
	Demo().Register(reg)
	for _, name := range []string{"supervised/worker", "supervised/counter"} {
		_, err := reg.Lookup(name)
		require.NoError(t, err, name)
	}
	require.Equal(t, "supervised", Demo().Name)
}

// cancelAfter is a narrative sink that cancels the run once it has seen n
// "count N" lines, as Ctrl-C would, and keeps the values it saw.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
	counts []int64
}

func (w *cancelAfter) Write(p []byte) (int, error) {
	var v int64
	if _, err := fmt.Sscanf(string(p), "count %d\n", &v); err == nil && len(w.counts) < w.n {
		w.counts = append(w.counts, v)
		if len(w.counts) == w.n {
			w.cancel()
		}
	}
	return len(p), nil
}
