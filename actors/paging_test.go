package actors_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// pagingSeed replays TestPagingCapHoldsUnderRandomSchedule; 0 picks one.
var pagingSeed = flag.Uint64("paging-seed", 0, "seed of TestPagingCapHoldsUnderRandomSchedule's schedule (0: a new one, printed)")

// pagingRegistry has "paged", a vat that keeps everything in baggage and
// durable objects (so it may opt in to paging), plus a few ways to hold
// heap state a page-out would lose. builds counts its build function's
// runs: one per instance, at a start or a page-in.
func pagingRegistry(builds *atomic.Int64) *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("paged", func(vc *vat.Context) (any, error) {
		builds.Add(1)
		box, err := vc.DefineKind("box", vat.Methods{
			"get": func(c *vat.Call) (any, error) { v, _ := c.State().Get("n"); return v, nil },
		})
		if err != nil {
			return nil, err
		}
		// A pageable vat's build may only use its vatstore: this one
		// sends at every build once told to (badBuild), which a page-in
		// refuses.
		if peer, ok := vc.Baggage.Get("peer"); ok {
			if err := vat.E(peer).SendOnly("incr"); err != nil {
				return nil, err
			}
		}
		count := func() int64 {
			v, _ := vc.Baggage.Get("count")
			n, _ := marshal.Int(orZero(v))
			return n
		}
		var gate func(any) // heap only: the resolver of a parked task's promise
		return vat.Far("paged", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
			"incr": func(c *vat.Call) (any, error) {
				n := count() + 1
				return n, vc.Baggage.Set("count", n)
			},
			"count": func(c *vat.Call) (any, error) { return count(), nil },
			// log appends its argument to a list in baggage: E-order.
			"log": func(c *vat.Call) (any, error) {
				l, _ := vc.Baggage.Get("log")
				list, _ := l.([]any)
				return nil, vc.Baggage.Set("log", append(list, c.Arg(0)))
			},
			"getLog": func(c *vat.Call) (any, error) { l, _ := vc.Baggage.Get("log"); return l, nil },
			// box exports a durable object: pageable.
			"box": func(c *vat.Call) (any, error) { return box.New(map[string]any{"n": c.Arg(0)}) },
			// hold exports an ephemeral object: not pageable while exported.
			"hold": func(c *vat.Call) (any, error) {
				return vat.Far("ephemeral", vat.Methods{"ping": func(*vat.Call) (any, error) { return "pong", nil }}), nil
			},
			// park waits in Await on a promise only its heap can settle.
			"park": func(c *vat.Call) (any, error) {
				p, resolve, _ := c.NewPromise()
				gate = resolve
				return p.Await()
			},
			"unpark": func(c *vat.Call) (any, error) {
				if gate == nil {
					return nil, fmt.Errorf("no parked task: the heap was lost")
				}
				gate(c.Arg(0))
				gate = nil
				return nil, nil
			},
			// pokePark makes the peer park with no result promise: only the
			// peer's heap knows it waits.
			"pokePark": func(c *vat.Call) (any, error) { return nil, vat.E(c.Arg(0)).SendOnly("park") },
			// sendLogs sends log(0..n-1) to the peer without waiting.
			"sendLogs": func(c *vat.Call) (any, error) {
				n, _ := marshal.Int(c.Arg(1))
				for i := int64(0); i < n; i++ {
					if err := vat.E(c.Arg(0)).SendOnly("log", i); err != nil {
						return nil, err
					}
				}
				return nil, nil
			},
			// pipeline sends box(n) to the peer and get() to its result
			// before it settles.
			"pipeline": func(c *vat.Call) (any, error) {
				b := vat.E(c.Arg(0)).Send("box", c.Arg(1))
				return vat.E(b).Send("get").Await()
			},
			"incrThenFail": func(c *vat.Call) (any, error) {
				if err := vc.Baggage.Set("count", count()+1); err != nil {
					return nil, err
				}
				panic("failing after a write")
			},
			"badBuild": func(c *vat.Call) (any, error) { return nil, vc.Baggage.Set("peer", c.Arg(0)) },
		}), nil
	})
	return reg
}

// pagedCluster has n pageable vats, p0 ... p(n-1), p0 the bootstrap.
func pagedCluster(n int) kernel.ClusterConfig {
	cfg := kernel.ClusterConfig{Bootstrap: "p0", Vats: map[string]kernel.VatConfig{}}
	for i := range n {
		cfg.Vats[fmt.Sprintf("p%d", i)] = kernel.VatConfig{Bundle: "paged", Pageable: true}
	}
	return cfg
}

// liveVatActors counts the vat actors alive in the actor system, from its
// process registry: the kernel actor's children, counted independently of
// what the kernel says. Stops are asynchronous, so the caller lets the
// bubble settle first (synctest.Wait).
func liveVatActors(sys *actor.ActorSystem) int {
	n := 0
	for _, m := range sys.ProcessRegistry.LocalPIDs.LocalPIDs {
		if m.Count() == 0 {
			continue
		}
		// IterCb, not Keys: Keys starts a goroutine per shard.
		m.IterCb(func(id string, _ any) {
			if strings.HasPrefix(id, "kernel") && strings.Contains(id, "/v") {
				n++
			}
		})
	}
	return n
}

// checkLive asserts the cap, counted both ways, and returns the status.
func checkLive(t *testing.T, k *actors.Kernel, max int) actors.Status {
	t.Helper()
	synctest.Wait()
	st, err := k.Status(context.Background())
	require.NoError(t, err)
	require.LessOrEqual(t, st.LiveVats, max, "the cap")
	require.Equal(t, st.LiveVats, liveVatActors(k.System()), "live vats as the kernel counts them and as actors")
	return st
}

// liveNames lists the config names of the vats that are live, in id
// order.
func liveNames(t *testing.T, st actors.Status) []string {
	t.Helper()
	var out []string
	for _, v := range st.Vats {
		if v.Active && !slices.Contains(st.PagedOut, v.ID) {
			out = append(out, v.Name)
		}
	}
	return out
}

// SwingSet's vat warehouse test, ported: four vats (and bootstrap) with
// two online; after each delivery the two most recently delivered are the
// live ones.
func TestPagingLeastRecentlyDeliveredGoesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var builds atomic.Int64
		k := start(t, actors.Config{Registry: pagingRegistry(&builds), MaxLiveVats: 2, AuditEveryCrank: true})
		res, err := k.LaunchSubcluster(ctx, pagedCluster(5))
		require.NoError(t, err)
		st := checkLive(t, k, 2)
		// Launched in name order, so p3 and p4 were the last started; the
		// bootstrap delivery then paged p0 back in.
		require.Equal(t, []string{"p0", "p4"}, liveNames(t, st))
		steps := []struct {
			vat  string
			live []string // in id order
		}{
			{"p1", []string{"p0", "p1"}},
			{"p2", []string{"p1", "p2"}},
			{"p3", []string{"p2", "p3"}},
			{"p4", []string{"p3", "p4"}},
			{"p2", []string{"p2", "p4"}},
			{"p2", []string{"p2", "p4"}},
		}
		for _, s := range steps {
			_, err := k.QueueMessage(ctx, res.Roots[s.vat], "incr")
			require.NoError(t, err)
			require.Equal(t, s.live, liveNames(t, checkLive(t, k, 2)), "after a delivery to %s", s.vat)
		}
		v, err := k.QueueMessage(ctx, res.Roots["p2"], "count")
		require.NoError(t, err)
		require.Equal(t, int64(3), v, "p2's count survived its page-outs")
		st = checkLive(t, k, 2)
		require.Equal(t, int64(5)+int64(st.PagedInCount), builds.Load(), "one build per start and per page-in")
	})
}

// The cap holds under a random schedule of deliveries over many vats
// (-paging-seed replays it), counted by the kernel and as actors after
// every delivery, with the auditor after every crank; and no vat's
// durable state is lost or doubled by its page-outs.
func TestPagingCapHoldsUnderRandomSchedule(t *testing.T) {
	seed := *pagingSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("paging seed %d (replay with -paging-seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	const vats, max, ops = 10, 4, 150
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var builds atomic.Int64
		k := start(t, actors.Config{Registry: pagingRegistry(&builds), MaxLiveVats: max, AuditEveryCrank: true})
		res, err := k.LaunchSubcluster(ctx, pagedCluster(vats))
		require.NoError(t, err)
		checkLive(t, k, max)
		want := map[string]int64{}
		for range ops {
			name := fmt.Sprintf("p%d", rng.IntN(vats))
			switch rng.IntN(4) {
			case 0: // vat to vat: the peer is paged in within the crank
				peer := fmt.Sprintf("p%d", rng.IntN(vats))
				_, err := k.QueueMessage(ctx, res.Roots[name], "pipeline", res.Roots[peer], 1)
				require.NoError(t, err)
			default:
				v, err := k.QueueMessage(ctx, res.Roots[name], "incr")
				require.NoError(t, err)
				want[name]++
				require.Equal(t, want[name], v, "%s's count", name)
			}
			checkLive(t, k, max)
		}
		st := checkLive(t, k, max)
		require.Positive(t, st.PagedOutCount)
		require.Equal(t, int64(vats)+int64(st.PagedInCount), builds.Load(), "one build per start and per page-in")
		t.Logf("%d page-outs, %d page-ins", st.PagedOutCount, st.PagedInCount)
	})
}

// Both events reach the vat log, with the same incarnation (a page-in is
// not a restart); Status lists the paged-out vat, and PingVat answers for
// it without paging it in.
func TestPagingLogsBothEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var builds atomic.Int64
		k := start(t, actors.Config{Registry: pagingRegistry(&builds), MaxLiveVats: 1, AuditEveryCrank: true})
		res, err := k.LaunchSubcluster(ctx, pagedCluster(2))
		require.NoError(t, err)
		p1 := res.VatIDs["p1"]
		st := checkLive(t, k, 1)
		require.Equal(t, []kernel.VatID{p1}, st.PagedOut, "p0 got bootstrap last")
		inc, err := k.PingVat(ctx, p1)
		require.NoError(t, err)
		require.Equal(t, int64(0), inc)
		require.Equal(t, []kernel.VatID{p1}, checkLive(t, k, 1).PagedOut, "a ping does not page in")

		_, err = k.QueueMessage(ctx, res.Roots["p1"], "incr")
		require.NoError(t, err)
		require.Equal(t, []kernel.VatID{res.VatIDs["p0"]}, checkLive(t, k, 1).PagedOut)
		require.NoError(t, k.WaitIdle(ctx))
		evs, err := k.VatLog(ctx, p1)
		require.NoError(t, err)
		var got []string
		for _, e := range evs {
			got = append(got, e.Event)
			require.Equal(t, int64(0), e.Incarnation, "%s: same incarnation", e.Event)
		}
		require.Equal(t, []string{kernel.EventPagedOut, kernel.EventPagedIn}, got)
		require.Contains(t, evs[0].Reason, "cap of 1")
	})
}

// A vat that opted in but holds state a page-out would lose is kept live,
// over the cap, and the log says why; once it lets go, it is paged out
// like any other, and nothing was lost meanwhile. Three kinds of state:
// an ephemeral export (the kernel sees it in the c-list), a promise it
// decides (likewise), and a task parked in Await with no promise the
// kernel knows (only the vat's instance can tell).
func TestPagingKeepsNonQuiescentVatLive(t *testing.T) {
	for _, tt := range []struct {
		name    string
		hold    func(ctx context.Context, k *actors.Kernel, res kernel.LaunchResult) (release func())
		wantLog string
	}{
		{
			name: "ephemeral export",
			hold: func(ctx context.Context, k *actors.Kernel, res kernel.LaunchResult) func() {
				obj, err := k.QueueMessage(ctx, res.Roots["p1"], "hold")
				require.NoError(t, err)
				return func() {
					v, err := k.QueueMessage(ctx, obj.(kernel.KRef), "ping")
					require.NoError(t, err)
					require.Equal(t, "pong", v, "the ephemeral object is still there")
					require.NoError(t, k.Release(ctx, obj.(kernel.KRef)))
					require.NoError(t, k.ScheduleReap(ctx, res.VatIDs["p1"]))
				}
			},
			wantLog: "exports 1 objects that live only in its heap",
		},
		{
			name: "promise it decides",
			hold: func(ctx context.Context, k *actors.Kernel, res kernel.LaunchResult) func() {
				done := make(chan any, 1)
				go func() {
					v, err := k.QueueMessage(ctx, res.Roots["p1"], "park")
					require.NoError(t, err)
					done <- v
				}()
				synctest.Wait()
				return func() {
					_, err := k.QueueMessage(ctx, res.Roots["p1"], "unpark", "opened")
					require.NoError(t, err)
					require.Equal(t, "opened", <-done)
				}
			},
			wantLog: "promises its heap must settle",
		},
		{
			name: "task parked in its heap only",
			hold: func(ctx context.Context, k *actors.Kernel, res kernel.LaunchResult) func() {
				_, err := k.QueueMessage(ctx, res.Roots["p0"], "pokePark", res.Roots["p1"])
				require.NoError(t, err)
				return func() {
					_, err := k.QueueMessage(ctx, res.Roots["p1"], "unpark", "opened")
					require.NoError(t, err, "the parked task was still there")
				}
			},
			wantLog: "1 tasks waiting in Await",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				var builds atomic.Int64
				var logs syncBuffer
				const max = 2
				k := start(t, actors.Config{Registry: pagingRegistry(&builds), MaxLiveVats: max,
					AuditEveryCrank: true, Logger: zerolog.New(&logs)})
				res, err := k.LaunchSubcluster(ctx, pagedCluster(4))
				require.NoError(t, err)
				p1 := res.VatIDs["p1"]
				release := tt.hold(ctx, k, res)
				// Pressure: every other vat in turn, twice over.
				for i := range 6 {
					_, err := k.QueueMessage(ctx, res.Roots[[]string{"p0", "p2", "p3"}[i%3]], "incr")
					require.NoError(t, err)
					synctest.Wait()
					st, err := k.Status(ctx)
					require.NoError(t, err)
					require.NotContains(t, st.PagedOut, p1, "a vat holding state is never paged out")
					require.LessOrEqual(t, st.LiveVats, max+1, "only the one vat is over the cap")
					require.Equal(t, st.LiveVats, liveVatActors(k.System()))
				}
				require.Contains(t, strings.Join(logs.lines(), "\n"), "vat kept live over the cap")
				require.Contains(t, strings.Join(logs.lines(), "\n"), tt.wantLog)

				release()
				require.NoError(t, k.WaitIdle(ctx))
				for i := range 3 {
					_, err := k.QueueMessage(ctx, res.Roots[[]string{"p0", "p2", "p3"}[i%3]], "incr")
					require.NoError(t, err)
				}
				st := checkLive(t, k, max)
				require.Contains(t, st.PagedOut, p1, "paged out once it let go")
			})
		})
	}
}
