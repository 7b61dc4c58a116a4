package actors_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
	"github.com/ocapgo/kernel-actors/vat"
)

// counterRegistry has a vat whose counter and record of what it has seen
// live in baggage, and which counts its bootstraps there too.
func counterRegistry() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("counter", func(vc *vat.Context) (any, error) {
		get := func(key string) int64 {
			v, _ := vc.Baggage.Get(key)
			n, _ := marshal.Int(orZero(v))
			return n
		}
		return vat.Far("counter", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { return nil, vc.Baggage.Set("bootstraps", get("bootstraps")+1) },
			"incr": func(c *vat.Call) (any, error) {
				n := get("count") + 1
				return n, vc.Baggage.Set("count", n)
			},
			// record notes id as seen, with the count at that moment, so a
			// message delivered twice would show as count > seen ids.
			"record": func(c *vat.Call) (any, error) {
				id, _ := marshal.Int(c.Arg(0))
				n := get("count") + 1
				if err := vc.Baggage.Set("count", n); err != nil {
					return nil, err
				}
				return n, vc.Baggage.Set(fmt.Sprintf("seen.%d", id), n)
			},
			"report": func(c *vat.Call) (any, error) {
				var seen []any
				for _, k := range vc.Baggage.Keys() {
					if id, ok := strings.CutPrefix(k, "seen."); ok {
						seen = append(seen, id)
					}
				}
				return map[string]any{"count": get("count"), "bootstraps": get("bootstraps"), "seen": seen}, nil
			},
		}), nil
	})
	return reg
}

func orZero(v any) any {
	if v == nil {
		return int64(0)
	}
	return v
}

func counterCluster() kernel.ClusterConfig {
	return kernel.ClusterConfig{Bootstrap: "counter", Vats: map[string]kernel.VatConfig{"counter": {Bundle: "counter"}}}
}

// Scenarios 7 and 8: stop, Start on the same file, and the durable counter
// continues without a second bootstrap; an item left in the run queue is
// delivered once.
func TestKernelRestartResumes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kernel.db")
	k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry()})
	require.NoError(t, err)
	res, err := k.LaunchSubcluster(ctx, counterCluster())
	require.NoError(t, err)
	for want := int64(1); want <= 2; want++ {
		v, err := k.QueueMessage(ctx, res.RootKref, "incr")
		require.NoError(t, err)
		require.Equal(t, want, v)
	}
	require.NoError(t, k.Stop(ctx))

	// With the kernel stopped, leave an item in the run queue.
	st, err := sqlitestore.Open(ctx, path, persistence.Options{})
	require.NoError(t, err)
	sm, err := kernel.New(kernel.Config{Store: st})
	require.NoError(t, err)
	incr, _ := marshal.Encode([]any{"incr", []any{}})
	_, _, err = sm.QueueMessage(ctx, res.RootKref, incr)
	require.NoError(t, err)
	require.NoError(t, st.Close(ctx))

	k, err = actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry()})
	require.NoError(t, err)
	defer k.Stop(ctx)
	v, err := k.QueueMessage(ctx, res.RootKref, "incr")
	require.NoError(t, err)
	require.Equal(t, int64(4), v, "1, 2, the queued item (3), this one (4)")
	r, err := k.QueueMessage(ctx, res.RootKref, "report")
	require.NoError(t, err)
	require.Equal(t, int64(1), r.(map[string]any)["bootstraps"], "bootstrap ran once, at launch")

	// A vat whose bundle is no longer registered makes Start fail, naming it.
	require.NoError(t, k.Stop(ctx))
	_, err = actors.Start(ctx, actors.Config{DBPath: path, Registry: vat.NewRegistry()})
	require.ErrorContains(t, err, `"counter"`)
	require.ErrorContains(t, err, "no bundle named")
}

// Scenario 9: ResetStorage wipes the state; the next launch starts over
// with the same ids and a new counter.
func TestResetStorage(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry()})
	require.NoError(t, err)
	first, err := k.LaunchSubcluster(ctx, counterCluster())
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		_, err = k.QueueMessage(ctx, first.RootKref, "incr")
		require.NoError(t, err)
	}
	require.NoError(t, k.Stop(ctx))

	k, err = actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry(), ResetStorage: true})
	require.NoError(t, err)
	defer k.Stop(ctx)
	st, err := k.Status(ctx)
	require.NoError(t, err)
	require.Empty(t, st.Vats)
	require.Empty(t, st.Subclusters)
	again, err := k.LaunchSubcluster(ctx, counterCluster())
	require.NoError(t, err)
	require.Equal(t, first.SubclusterID, again.SubclusterID)
	require.Equal(t, first.RootKref, again.RootKref)
	v, err := k.QueueMessage(ctx, again.RootKref, "incr")
	require.NoError(t, err)
	require.Equal(t, int64(1), v, "a new counter")
}

// killSeed replays TestKillDashNineLosesNothing's kill points; 0 picks a
// new seed.
var killSeed = flag.Uint64("kill-seed", 0, "seed of TestKillDashNineLosesNothing's kill points (0: a new one, printed)")

// TestMain runs the crash test's child process when asked to.
func TestMain(m *testing.M) {
	if path := os.Getenv("KERNEL_ACTORS_CRASH_CHILD"); path != "" {
		os.Exit(crashChild(path))
	}
	if path := os.Getenv("KERNEL_ACTORS_PAGING_CHILD"); path != "" {
		os.Exit(pagingChild(path))
	}
	if path := os.Getenv(resumeChildEnv); path != "" {
		os.Exit(resumeChild(path))
	}
	if path := os.Getenv(resumeKillEnv); path != "" {
		os.Exit(resumeKillChild(path))
	}
	os.Exit(m.Run())
}

// crashChild launches (or resumes) the counter on path and sends it
// record(i) for i = 0, 1, ..., printing each acknowledged i, until killed.
func crashChild(path string) int {
	ctx := context.Background()
	cfg := actors.Config{DBPath: path, Registry: counterRegistry()}
	if os.Getenv("KERNEL_ACTORS_CRASH_GROUP") != "" {
		cfg.CommitPolicy, cfg.GroupCranks, cfg.GroupInterval = persistence.Group, 1000, time.Hour
	}
	k, err := actors.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	res, err := k.LaunchSubcluster(ctx, counterCluster())
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	fmt.Printf("root %s\n", res.RootKref)
	for i := 0; ; i++ {
		fmt.Printf("send %d\n", i)
		if _, err := k.QueueMessage(ctx, res.RootKref, "record", i); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
		fmt.Printf("ack %d\n", i)
	}
}

// Invariant 12: kill -9 the process in the middle of a stream of sends,
// restart on the file, and every acknowledged send's effect is there
// exactly once; nothing was delivered twice. Under group commit too
// (with limits so loose that only the flush when idle ends a group):
// nothing is acknowledged before it is in the file.
//
// The kill points come from a seed the test prints; -kill-seed replays it.
func TestKillDashNineLosesNothing(t *testing.T) {
	seed := *killSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("kill seed %d (replay with -kill-seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for round := 0; round < 6; round++ {
		killAt := 20 + rng.IntN(150)
		group := round%2 == 1
		t.Run(fmt.Sprintf("round %d group=%v", round, group), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "crash.db")
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "KERNEL_ACTORS_CRASH_CHILD="+path)
			if group {
				cmd.Env = append(cmd.Env, "KERNEL_ACTORS_CRASH_GROUP=1")
			}
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			lines := bufio.NewScanner(out)
			acked, sent := map[string]bool{}, map[string]bool{}
			var root kernel.KRef
			killed := false
			for lines.Scan() {
				f := strings.Fields(lines.Text())
				if len(f) < 2 {
					continue // the kill may cut the last line short
				}
				switch f[0] {
				case "root":
					root = kernel.KRef(f[1])
				case "send":
					sent[f[1]] = true
				case "ack":
					acked[f[1]] = true
				}
				if len(acked) == killAt && !killed {
					// Keep reading after the kill: the child ran on while
					// the pipe buffered what it printed.
					require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
					killed = true
				}
			}
			require.True(t, killed, "the child stopped on its own")
			cmd.Wait()
			require.NotEmpty(t, root)

			ctx := context.Background()
			k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: counterRegistry()})
			require.NoError(t, err)
			defer k.Stop(ctx)
			r, err := k.QueueMessage(ctx, root, "report")
			require.NoError(t, err)
			rep := r.(map[string]any)
			seen := map[string]bool{}
			for _, id := range rep["seen"].([]any) {
				seen[id.(string)] = true
			}
			for id := range acked {
				require.True(t, seen[id], "acknowledged send %s lost", id)
			}
			for id := range seen {
				require.True(t, sent[id], "record %s was never sent", id)
			}
			require.Equal(t, int64(len(seen)), rep["count"], "a send was delivered twice")
			require.LessOrEqual(t, len(seen)-len(acked), 1, "at most the one in flight is unacknowledged")
			t.Logf("killed after %d acks (kill point %d); %d recorded", len(acked), killAt, len(seen))
		})
	}
}
