package actors_test

import (
	"bufio"
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
)

// events lists a vat's log, event names only.
func events(t *testing.T, k *actors.Kernel, id kernel.VatID) []string {
	t.Helper()
	require.NoError(t, k.WaitIdle(context.Background()))
	evs, err := k.VatLog(context.Background(), id)
	require.NoError(t, err)
	var out []string
	for _, e := range evs {
		out = append(out, e.Event)
	}
	return out
}

// Page-in is invisible to the vat's peers: messages sent on one reference
// arrive in order although the first pages the vat in; a send pipelined
// to the result of a send to a paged-out vat reaches it; the kernel's GC
// reaches a paged-out vat (a dropExports pages it in). The auditor runs
// after every crank throughout.
func TestPagingInvisibleToSemantics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var builds atomic.Int64
		k := start(t, actors.Config{Registry: pagingRegistry(&builds), MaxLiveVats: 1, AuditEveryCrank: true})
		res, err := k.LaunchSubcluster(ctx, pagedCluster(2))
		require.NoError(t, err)
		p1 := res.VatIDs["p1"]
		require.Equal(t, []kernel.VatID{p1}, checkLive(t, k, 1).PagedOut)

		// E-order: ten sends in one crank, to a vat that is paged out.
		_, err = k.QueueMessage(ctx, res.Roots["p0"], "sendLogs", res.Roots["p1"], 10)
		require.NoError(t, err)
		require.NoError(t, k.WaitIdle(ctx))
		require.Equal(t, []kernel.VatID{res.VatIDs["p0"]}, checkLive(t, k, 1).PagedOut)
		_, err = k.QueueMessage(ctx, res.Roots["p0"], "incr") // p1 out again
		require.NoError(t, err)
		require.Equal(t, []kernel.VatID{p1}, checkLive(t, k, 1).PagedOut)
		l, err := k.QueueMessage(ctx, res.Roots["p1"], "getLog")
		require.NoError(t, err)
		require.Equal(t, []any{int64(0), int64(1), int64(2), int64(3), int64(4), int64(5), int64(6), int64(7), int64(8), int64(9)}, l)

		// Pipelining: box(7) to the paged-out p1, get() to its result.
		_, err = k.QueueMessage(ctx, res.Roots["p0"], "incr")
		require.NoError(t, err)
		require.Equal(t, []kernel.VatID{p1}, checkLive(t, k, 1).PagedOut)
		v, err := k.QueueMessage(ctx, res.Roots["p0"], "pipeline", res.Roots["p1"], 7)
		require.NoError(t, err)
		require.Equal(t, int64(7), v)
		checkLive(t, k, 1)

		// GC: the host lets go of a durable object of p1's while p1 is
		// paged out; the drop pages p1 in.
		box, err := k.QueueMessage(ctx, res.Roots["p1"], "box", 3)
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.Roots["p0"], "incr")
		require.NoError(t, err)
		before := checkLive(t, k, 1)
		require.Equal(t, []kernel.VatID{p1}, before.PagedOut)
		require.NoError(t, k.Release(ctx, box.(kernel.KRef)))
		require.NoError(t, k.WaitIdle(ctx))
		after := checkLive(t, k, 1)
		require.Equal(t, before.PagedInCount+1, after.PagedInCount, "the drop was delivered to p1, paging it in")
		require.NotContains(t, after.PagedOut, p1)
	})
}

// A crank that pages a vat in and then fails rolls back as any crank
// does: the write the failed delivery made is gone, and the failure
// policy applies (here, restart). The vat log has the failure, not a
// page-in that never happened.
func TestPagingFailedCrankRollsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var builds atomic.Int64
		k := start(t, actors.Config{Registry: pagingRegistry(&builds), MaxLiveVats: 1, AuditEveryCrank: true})
		cfg := pagedCluster(2)
		p1cfg := cfg.Vats["p1"]
		p1cfg.FailurePolicy = kernel.PolicyRestart
		cfg.Vats["p1"] = p1cfg
		res, err := k.LaunchSubcluster(ctx, cfg)
		require.NoError(t, err)
		p1 := res.VatIDs["p1"]
		_, err = k.QueueMessage(ctx, res.Roots["p1"], "incr")
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.Roots["p0"], "incr")
		require.NoError(t, err)
		require.Equal(t, []kernel.VatID{p1}, checkLive(t, k, 1).PagedOut)

		_, err = k.QueueMessage(ctx, res.Roots["p1"], "incrThenFail")
		require.ErrorIs(t, err, kernel.ErrInternalError)
		time.Sleep(time.Second) // the restart's backoff, on the bubble's clock
		v, err := k.QueueMessage(ctx, res.Roots["p1"], "count")
		require.NoError(t, err)
		require.Equal(t, int64(1), v, "the failed crank's write rolled back")
		// Launch (out), incr (in), p0's incr (out); then the failure.
		require.Equal(t, []string{kernel.EventPagedOut, kernel.EventPagedIn, kernel.EventPagedOut, "failed", "restarted"},
			events(t, k, p1)[:5])
		checkLive(t, k, 1)
	})
}

// A pageable vat's build runs again at every page-in, so it may use only
// its vatstore: one that sends there fails the delivery that pages it in,
// as its own fault, and the send never happens.
func TestPagingRefusesBuildThatSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var builds atomic.Int64
		k := start(t, actors.Config{Registry: pagingRegistry(&builds), MaxLiveVats: 1, AuditEveryCrank: true})
		res, err := k.LaunchSubcluster(ctx, pagedCluster(2))
		require.NoError(t, err)
		p1 := res.VatIDs["p1"]
		_, err = k.QueueMessage(ctx, res.Roots["p1"], "badBuild", res.Roots["p0"])
		require.NoError(t, err)
		_, err = k.QueueMessage(ctx, res.Roots["p0"], "incr")
		require.NoError(t, err)
		require.Equal(t, []kernel.VatID{p1}, checkLive(t, k, 1).PagedOut)

		_, err = k.QueueMessage(ctx, res.Roots["p1"], "incr")
		require.Error(t, err)
		info := vatInfo(t, k, p1)
		require.False(t, info.Active, "terminated for its build's send")
		evs, err := k.VatLog(ctx, p1)
		require.NoError(t, err)
		last := evs[len(evs)-1]
		require.Equal(t, "terminated", last.Event)
		require.Contains(t, last.Reason, "may only use its vatstore")
		v, err := k.QueueMessage(ctx, res.Roots["p0"], "count")
		require.NoError(t, err)
		require.Equal(t, int64(1), v, "p0 got only the host's incr, not the build's")
		checkLive(t, k, 1)
	})
}

func vatInfo(t *testing.T, k *actors.Kernel, id kernel.VatID) kernel.VatInfo {
	t.Helper()
	st, err := k.Status(context.Background())
	require.NoError(t, err)
	for _, v := range st.Vats {
		if v.ID == id {
			return v
		}
	}
	t.Fatalf("no vat %s", id)
	return kernel.VatInfo{}
}

// Restart, upgrade and terminate work on a paged-out vat as on a live one:
// restart and upgrade begin a new incarnation from the vatstore (and take
// a slot under the cap), terminate ends it.
func TestPagingRestartUpgradeTerminatePagedOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var builds atomic.Int64
		k := start(t, actors.Config{Registry: pagingRegistry(&builds), MaxLiveVats: 1, AuditEveryCrank: true})
		res, err := k.LaunchSubcluster(ctx, pagedCluster(2))
		require.NoError(t, err)
		p1 := res.VatIDs["p1"]
		_, err = k.QueueMessage(ctx, res.Roots["p1"], "incr")
		require.NoError(t, err)
		pageOutP1 := func() {
			t.Helper()
			_, err := k.QueueMessage(ctx, res.Roots["p0"], "incr")
			require.NoError(t, err)
			require.Equal(t, []kernel.VatID{p1}, checkLive(t, k, 1).PagedOut)
		}

		pageOutP1()
		require.NoError(t, k.RestartVat(ctx, p1))
		st := checkLive(t, k, 1)
		require.NotContains(t, st.PagedOut, p1, "restarted: live")
		require.Equal(t, int64(1), vatInfo(t, k, p1).Incarnation)
		v, err := k.QueueMessage(ctx, res.Roots["p1"], "count")
		require.NoError(t, err)
		require.Equal(t, int64(1), v)

		pageOutP1()
		require.NoError(t, k.UpgradeVat(ctx, p1, "paged"))
		require.Equal(t, int64(2), vatInfo(t, k, p1).Incarnation)
		v, err = k.QueueMessage(ctx, res.Roots["p1"], "incr")
		require.NoError(t, err)
		require.Equal(t, int64(2), v)

		pageOutP1()
		require.NoError(t, k.TerminateVat(ctx, p1, "done"))
		st = checkLive(t, k, 1)
		require.NotContains(t, st.PagedOut, p1)
		_, err = k.QueueMessage(ctx, res.Roots["p1"], "count")
		require.Error(t, err)
		require.Equal(t, []string{
			kernel.EventPagedOut, kernel.EventPagedIn, kernel.EventPagedOut, "restarted",
			kernel.EventPagedOut, "upgraded", kernel.EventPagedOut, "terminated",
		}, events(t, k, p1))
	})
}

// pagingChild runs pageable counters under a cap of 2 on path (launching
// them, or finding them after a restart) and sends incr to each in turn,
// printing each acknowledged count, until killed.
func pagingChild(path string) int {
	ctx := context.Background()
	var builds atomic.Int64
	k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: pagingRegistry(&builds), MaxLiveVats: 2})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	res, err := k.LaunchSubcluster(ctx, pagedCluster(5))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	for i := 0; ; i++ {
		name := fmt.Sprintf("p%d", i%5)
		v, err := k.QueueMessage(ctx, res.Roots[name], "incr")
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
		fmt.Printf("ack %s %d %s\n", name, v, res.Roots[name])
	}
}

// kill -9 while vats are paged out loses nothing: the resumed kernel
// (under the same cap) finds every acknowledged incr, none twice. The kill
// point comes from -kill-seed (printed).
func TestPagingKillDashNine(t *testing.T) {
	seed := *killSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("kill seed %d (replay with -kill-seed=%d)", seed, seed)
	killAt := 30 + rand.New(rand.NewPCG(seed, 1)).IntN(60)
	path := filepath.Join(t.TempDir(), "paging-crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KERNEL_ACTORS_PAGING_CHILD="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	acked := map[string]int64{}
	roots := map[string]kernel.KRef{}
	n, killed := 0, false
	for lines := bufio.NewScanner(out); lines.Scan(); {
		f := strings.Fields(lines.Text())
		if len(f) != 4 || f[0] != "ack" {
			continue // the kill may cut the last line short
		}
		v, err := strconv.ParseInt(f[2], 10, 64)
		require.NoError(t, err)
		acked[f[1]], roots[f[1]] = v, kernel.KRef(f[3])
		if n++; n == killAt && !killed {
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			killed = true
		}
	}
	require.True(t, killed, "the child stopped on its own")
	cmd.Wait()

	ctx := context.Background()
	var builds atomic.Int64
	k, err := actors.Start(ctx, actors.Config{DBPath: path, Registry: pagingRegistry(&builds), MaxLiveVats: 2, AuditEveryCrank: true})
	require.NoError(t, err)
	defer k.Stop(ctx)
	st, err := k.Status(ctx)
	require.NoError(t, err)
	require.LessOrEqual(t, st.LiveVats, 2)
	for name, want := range acked {
		v, err := k.QueueMessage(ctx, roots[name], "count")
		require.NoError(t, err)
		got := v.(int64)
		require.GreaterOrEqual(t, got, want, "%s: an acknowledged incr was lost", name)
		require.LessOrEqual(t, got, want+1, "%s: at most the one in flight is unacknowledged", name)
	}
	t.Logf("killed after %d acks; %d page-outs at resume", n, st.PagedOutCount)
}

// A pageable vat whose build sends at a start (here at a restart, once a
// peer is in its baggage) is kept live from then on, rather than failed
// at its next page-in: the log says why.
func TestPagingKeepsVatWhoseBuildSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var builds atomic.Int64
		var logs syncBuffer
		k := start(t, actors.Config{Registry: pagingRegistry(&builds), MaxLiveVats: 1, AuditEveryCrank: true,
			Logger: zerolog.New(&logs)})
		res, err := k.LaunchSubcluster(ctx, pagedCluster(2))
		require.NoError(t, err)
		p1 := res.VatIDs["p1"]
		_, err = k.QueueMessage(ctx, res.Roots["p1"], "badBuild", res.Roots["p0"])
		require.NoError(t, err)
		require.NoError(t, k.RestartVat(ctx, p1)) // its build sends incr to p0
		require.NoError(t, k.WaitIdle(ctx))
		for range 3 {
			v, err := k.QueueMessage(ctx, res.Roots["p0"], "count")
			require.NoError(t, err)
			require.Equal(t, int64(1), v, "the restart's build sent once")
			synctest.Wait()
			st, err := k.Status(ctx)
			require.NoError(t, err)
			// p1 stays live; p0, pageable and idle after each delivery, is
			// paged out once it is done, to bring the kernel back to its cap.
			require.Equal(t, []kernel.VatID{res.VatIDs["p0"]}, st.PagedOut)
			require.Equal(t, 1, st.LiveVats)
		}
		require.Contains(t, strings.Join(logs.lines(), "\n"), "its build makes syscalls other than the vatstore's")
	})
}
