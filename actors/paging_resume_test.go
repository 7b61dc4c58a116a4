package actors_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// mixedCluster has pageable vats p0 ... p(n-1), p0 the bootstrap, and
// fixed vats f0 ... f(m-1) on the same code whose configs do not opt in.
func mixedCluster(n, m int) kernel.ClusterConfig {
	cfg := pagedCluster(n)
	for i := range m {
		cfg.Vats[fmt.Sprintf("f%d", i)] = kernel.VatConfig{Bundle: "paged"}
	}
	return cfg
}

// unresolvedDecidedBy lists the unresolved promises vat decides.
func unresolvedDecidedBy(t *testing.T, k *actors.Kernel, vat kernel.VatID) []string {
	t.Helper()
	var out []string
	require.NoError(t, k.ReadStore(context.Background(), func(st *persistence.Store) error {
		for _, s := range st.PromiseKPIDs() {
			if p, _ := st.Promise(s); p.Decider == string(vat) && p.State == persistence.PromiseUnresolved {
				out = append(out, s)
			}
		}
		return nil
	}))
	return out
}

// auditNow runs the auditor over the kernel's committed state, between
// units (after a resume, which runs no crank, AuditEveryCrank has not).
func auditNow(t *testing.T, k *actors.Kernel) {
	t.Helper()
	require.NoError(t, k.ReadStore(context.Background(), func(st *persistence.Store) error {
		problems, err := kernel.Audit(context.Background(), st)
		require.NoError(t, err)
		require.Empty(t, problems)
		return nil
	}))
}

// A kernel resumed on a file under a cap starts only its vats that cannot
// be paged out; the pageable ones come back paged out, with no actor and
// no build, however many there are. Their new incarnations have begun all
// the same: the promise a lost heap decided is rejected at resume, not at
// the vat's next delivery. A delivery pages each in with its durable
// state (baggage, a durable object the host holds), the vat log says
// "resumed", then "paged-in", and the cap holds throughout, counted by
// the kernel and as actors, with the auditor after every crank.
func TestPagingResumeStartsPageableVatsPagedOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "paging.db")
		var builds atomic.Int64
		const max = 3
		cfg := actors.Config{DBPath: path, Registry: pagingRegistry(&builds), MaxLiveVats: max, AuditEveryCrank: true}
		k, err := actors.Start(ctx, cfg)
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, mixedCluster(6, 2))
		require.NoError(t, err)
		for i := range 6 {
			for range i {
				_, err := k.QueueMessage(ctx, res.Roots[fmt.Sprintf("p%d", i)], "incr")
				require.NoError(t, err)
			}
		}
		box, err := k.QueueMessage(ctx, res.Roots["p2"], "box", 42)
		require.NoError(t, err)
		// p3 decides the result of a park that never returns: it stays
		// live, holding an unresolved promise, until the kernel stops.
		parked := make(chan error, 1)
		go func() {
			_, err := k.QueueMessage(ctx, res.Roots["p3"], "park")
			parked <- err
		}()
		synctest.Wait()
		p3 := res.VatIDs["p3"]
		require.Len(t, unresolvedDecidedBy(t, k, p3), 1)
		require.NoError(t, k.Stop(ctx))
		require.Error(t, <-parked)

		builds.Store(0)
		k = start(t, cfg)
		st := checkLive(t, k, max)
		require.Equal(t, 2, st.LiveVats, "only f0 and f1 started")
		require.Equal(t, []string{"f0", "f1"}, liveNames(t, st))
		require.Len(t, st.PagedOut, 6)
		require.Equal(t, int64(2), builds.Load(), "no pageable vat was built")
		auditNow(t, k)
		require.Empty(t, unresolvedDecidedBy(t, k, p3), "the lost heap's promise was rejected at resume")
		require.Equal(t, int64(1), vatInfo(t, k, p3).Incarnation)
		p3log := events(t, k, p3)
		require.Equal(t, "resumed", p3log[len(p3log)-1])

		for i := range 6 {
			v, err := k.QueueMessage(ctx, res.Roots[fmt.Sprintf("p%d", i)], "count")
			require.NoError(t, err)
			require.Equal(t, int64(i), v, "p%d's count", i)
			checkLive(t, k, max)
		}
		v, err := k.QueueMessage(ctx, box.(kernel.KRef), "get")
		require.NoError(t, err)
		require.Equal(t, int64(42), v, "the durable object came back with its state")
		for _, name := range []string{"f0", "f1"} {
			v, err := k.QueueMessage(ctx, res.Roots[name], "incr")
			require.NoError(t, err)
			require.Equal(t, int64(1), v)
		}
		st = checkLive(t, k, max)
		require.Equal(t, int64(2)+int64(st.PagedInCount), builds.Load(), "one build per start and per page-in")

		p1 := res.VatIDs["p1"]
		evs, err := k.VatLog(ctx, p1)
		require.NoError(t, err)
		// The log of this process: the resume, then the page-in by the
		// first delivery (then page-outs and page-ins as any vat's).
		var since []persistence.VatEvent
		for i, e := range evs {
			if e.Event == "resumed" {
				since = evs[i:]
			}
		}
		require.GreaterOrEqual(t, len(since), 2, "%v", evs)
		require.Contains(t, since[0].Reason, "waits for its first delivery")
		require.Equal(t, kernel.EventPagedIn, since[1].Event)
		require.Equal(t, "a delivery to the paged-out vat", since[1].Reason)
		for _, e := range since {
			require.Equal(t, int64(1), e.Incarnation, "%s: the resumed incarnation", e.Event)
		}
	})
}

// A pageable vat whose build sends at a start (here, once a peer is in
// its baggage) comes back paged out too: its deferred start runs inside
// its first delivery, and its send happens there, once, as at a start
// (not refused as a page-in's would be); from then on it is kept live,
// and the log says why. With no cap, every vat starts at resume, as
// before paging.
func TestPagingResumeDeferredBuildThatSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "paging.db")
		var builds atomic.Int64
		var logs syncBuffer
		cfg := actors.Config{DBPath: path, Registry: pagingRegistry(&builds), MaxLiveVats: 1, AuditEveryCrank: true,
			Logger: zerolog.New(&logs)}
		k, err := actors.Start(ctx, cfg)
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, pagedCluster(2))
		require.NoError(t, err)
		p0, p1 := res.VatIDs["p0"], res.VatIDs["p1"]
		_, err = k.QueueMessage(ctx, res.Roots["p1"], "badBuild", res.Roots["p0"])
		require.NoError(t, err)
		require.NoError(t, k.Stop(ctx))

		k = start(t, cfg)
		require.Equal(t, []kernel.VatID{p0, p1}, checkLive(t, k, 1).PagedOut)
		v, err := k.QueueMessage(ctx, res.Roots["p0"], "count")
		require.NoError(t, err)
		require.Equal(t, int64(0), v, "nothing sent yet: p1 has not started")
		v, err = k.QueueMessage(ctx, res.Roots["p1"], "incr")
		require.NoError(t, err, "the deferred start may send, as a start may")
		require.Equal(t, int64(1), v)
		require.NoError(t, k.WaitIdle(ctx))
		for range 2 {
			v, err = k.QueueMessage(ctx, res.Roots["p0"], "count")
			require.NoError(t, err)
			require.Equal(t, int64(1), v, "p1's build sent once")
			synctest.Wait()
			st, err := k.Status(ctx)
			require.NoError(t, err)
			require.Equal(t, []kernel.VatID{p0}, st.PagedOut, "p1 is kept live")
		}
		require.True(t, vatInfo(t, k, p1).Active)
		require.Contains(t, strings.Join(logs.lines(), "\n"), "its build makes syscalls other than the vatstore's")
		require.NoError(t, k.Stop(ctx))

		cfg.MaxLiveVats = 0
		k = start(t, cfg)
		st := checkLive(t, k, 2)
		require.Empty(t, st.PagedOut, "no cap: every vat starts")
		require.Equal(t, 2, st.LiveVats)
		v, err = k.QueueMessage(ctx, res.Roots["p0"], "count")
		require.NoError(t, err)
		require.Equal(t, int64(2), v, "p1's build sent at this resume, as a start does")
	})
}

// resumeKillChild resumes the store at path under a cap of 2 with
// durable commit, and kills itself with SIGKILL at the point of the flush
// KERNEL_ACTORS_RESUME_KILL_AT names ("N:point", the Nth flush); it prints
// "resumed" if the resume ends first.
func resumeKillChild(path string) int {
	n, point, _ := strings.Cut(os.Getenv(resumeKillAtEnv), ":")
	at, err := strconv.Atoi(n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	var builds atomic.Int64
	k, err := actors.Start(context.Background(), actors.Config{DBPath: path, Registry: pagingRegistry(&builds),
		MaxLiveVats: 2, StoreFaults: &killAt{at: at, point: persistence.FaultPoint(point)}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	fmt.Println("resumed")
	k.Stop(context.Background())
	return 0
}

const (
	resumeKillEnv   = "KERNEL_ACTORS_RESUME_KILL"
	resumeKillAtEnv = "KERNEL_ACTORS_RESUME_KILL_AT"
)

// killAt kills the process at point of the at-th flush.
type killAt struct {
	at, seen int
	point    persistence.FaultPoint
}

func (f *killAt) Fault(p persistence.FaultPoint) error {
	if p == persistence.FaultBeforeBegin {
		f.seen++
	}
	if f.seen == f.at && p == f.point {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal ends the process
	}
	return nil
}

// kill -9 in the middle of a resume that defers many starts (at a commit
// boundary of one of its first flushes: a unit of deferred vats, or a
// start) loses nothing: resumed again, the kernel finds every vat's
// state, the cap holds, the auditor is green after every crank; and it
// resumes once more after that. The kill points come from -kill-seed
// (printed).
func TestPagingResumeKilled(t *testing.T) {
	seed := *killSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("kill seed %d (replay with -kill-seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	ctx := context.Background()
	base := filepath.Join(t.TempDir(), "base.db")
	var builds atomic.Int64
	// 300 pageable vats (two units of deferred vats at resume) and two
	// fixed ones (a unit each): with the host's unit first, five flushes.
	const n, max = 300, 2
	k, err := actors.Start(ctx, actors.Config{DBPath: base, Registry: pagingRegistry(&builds), MaxLiveVats: max,
		CommitPolicy: persistence.Group, GroupCranks: 1000, GroupInterval: time.Hour})
	require.NoError(t, err)
	res, err := k.LaunchSubcluster(ctx, mixedCluster(n, 2))
	require.NoError(t, err)
	want := map[string]int64{}
	for name := range res.Roots {
		c := int64(rng.IntN(3))
		for range c {
			_, err := k.QueueMessage(ctx, res.Roots[name], "incr")
			require.NoError(t, err)
		}
		want[name] = c
	}
	require.NoError(t, k.Stop(ctx))

	points := []persistence.FaultPoint{persistence.FaultBeforeBegin, persistence.FaultBeforeCommit, persistence.FaultAfterCommit}
	for round := range 3 {
		at, point := 1+rng.IntN(5), points[rng.IntN(len(points))]
		t.Run(fmt.Sprintf("round %d flush %d %s", round, at, point), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.db")
			copyStore(t, base, path)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), resumeKillEnv+"="+path, fmt.Sprintf("%s=%d:%s", resumeKillAtEnv, at, point))
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			require.Error(t, err, "the child was to be killed; it said %q", out)
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit)
			require.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal())

			for again := range 2 { // resumed after the kill, then once more
				cfg := actors.Config{DBPath: path, Registry: pagingRegistry(&builds), MaxLiveVats: max, AuditEveryCrank: true}
				k, err := actors.Start(ctx, cfg)
				require.NoError(t, err)
				st, err := k.Status(ctx)
				require.NoError(t, err)
				require.Equal(t, 2, st.LiveVats, "resume %d: only the fixed vats started", again)
				require.Len(t, st.PagedOut, n)
				auditNow(t, k)
				for i := 0; i < n; i += 37 {
					name := fmt.Sprintf("p%d", i)
					v, err := k.QueueMessage(ctx, res.Roots[name], "count")
					require.NoError(t, err)
					require.Equal(t, want[name], v, "resume %d: %s's count", again, name)
				}
				for _, name := range []string{"f0", "f1"} {
					v, err := k.QueueMessage(ctx, res.Roots[name], "count")
					require.NoError(t, err)
					require.Equal(t, want[name], v, "resume %d: %s's count", again, name)
				}
				st, err = k.Status(ctx)
				require.NoError(t, err)
				require.LessOrEqual(t, st.LiveVats, max)
				require.NoError(t, k.Stop(ctx))
			}
		})
	}
}

// A vat that came back paged out, not yet started, takes the host's
// requests as any paged-out vat: a ping answers its incarnation without
// starting it; restart and upgrade start a new incarnation (live);
// terminate ends it with no instance to stop.
func TestPagingResumedVatTakesRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "paging.db")
		var builds atomic.Int64
		cfg := actors.Config{DBPath: path, Registry: pagingRegistry(&builds), MaxLiveVats: 2, AuditEveryCrank: true}
		k, err := actors.Start(ctx, cfg)
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, pagedCluster(4))
		require.NoError(t, err)
		for _, name := range []string{"p1", "p2"} {
			_, err := k.QueueMessage(ctx, res.Roots[name], "incr")
			require.NoError(t, err)
		}
		require.NoError(t, k.Stop(ctx))

		builds.Store(0)
		k = start(t, cfg)
		p1, p2, p3 := res.VatIDs["p1"], res.VatIDs["p2"], res.VatIDs["p3"]
		inc, err := k.PingVat(ctx, p1)
		require.NoError(t, err)
		require.Equal(t, int64(1), inc)
		require.Equal(t, int64(0), builds.Load(), "a ping starts nothing")

		require.NoError(t, k.RestartVat(ctx, p1))
		require.NoError(t, k.UpgradeVat(ctx, p2, "paged"))
		require.NoError(t, k.TerminateVat(ctx, p3, "done"))
		st := checkLive(t, k, 2)
		require.NotContains(t, st.PagedOut, p1)
		require.NotContains(t, st.PagedOut, p3)
		require.Equal(t, int64(2), vatInfo(t, k, p1).Incarnation)
		require.Equal(t, int64(2), vatInfo(t, k, p2).Incarnation)
		require.False(t, vatInfo(t, k, p3).Active)
		for _, name := range []string{"p1", "p2"} {
			v, err := k.QueueMessage(ctx, res.Roots[name], "count")
			require.NoError(t, err)
			require.Equal(t, int64(1), v, "%s kept its count", name)
		}
		require.Equal(t, []string{"resumed", "restarted"}, lastEvents(t, k, p1, 2))
		require.Equal(t, []string{"resumed", "upgraded"}, lastEvents(t, k, p2, 2))
		checkLive(t, k, 2)
	})
}

// lastEvents lists the last n events of a vat's log, names only, leaving
// out paging events.
func lastEvents(t *testing.T, k *actors.Kernel, id kernel.VatID, n int) []string {
	t.Helper()
	var out []string
	for _, e := range events(t, k, id) {
		if e != kernel.EventPagedIn && e != kernel.EventPagedOut {
			out = append(out, e)
		}
	}
	return out[len(out)-n:]
}
