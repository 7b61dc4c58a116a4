package kernel_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/ocapurl"
)

var (
	flagURLSeed  = flag.Uint64("url.seed", 0, "run TestURLRedeemFaultyLink with only this seed")
	flagURLSeeds = flag.Int("url.seeds", 4, "how many seeds TestURLRedeemFaultyLink runs")
)

// fileURLLink is urlLink over file stores, so either kernel can be
// restarted or crashed.
func fileURLLink(t *testing.T) (*kt.Link, kernel.KRef, *[]int64) {
	dir := t.TempDir()
	a := kt.NewWithOptions(t, filepath.Join(dir, "a.db"), persistence.Options{})
	b := kt.NewWithOptions(t, filepath.Join(dir, "b.db"), persistence.Options{})
	l := kt.Connect(a, b)
	l.SetLocalPeers()
	_, root, log := bankLog(b)
	return l, root, log
}

// The issuer's answer is lost on the link, then sent again: the redeemer
// keeps waiting, the resend settles the redemption, and a second copy of
// it (and of the redeem) is dropped as a duplicate. The redemption and
// the pipelined deposit happened once.
func TestURLRedeemAnswerLostAndResent(t *testing.T) {
	l, root, log := fileURLLink(t)
	a, b := l.A, l.B
	kp := a.RedeemURL(b.IssueURL(root))
	kpDep := a.Call(kp, "deposit", int64(5))
	a.RunUntilQuiescent(0)
	require.Equal(t, 2, l.AB().Pump(func(uint64) kt.Fault { return kt.Twice }, true), "redeem and deposit, each twice")
	require.Equal(t, 2, l.Duplicates["a>b"])
	b.RunUntilQuiescent(0)
	require.Equal(t, 2, outboxLen(t, b, l.BtoA), "the answer and the deposit's")
	require.Zero(t, l.BA().Pump(func(uint64) kt.Fault { return kt.Drop }, true), "both lost")
	_, seen := a.Result(kp)
	require.False(t, seen, "still waiting")
	require.Equal(t, 2, outboxLen(t, b, l.BtoA), "unacknowledged: kept for the resend")
	require.Equal(t, 2, l.BA().Pump(func(uint64) kt.Fault { return kt.Twice }, true), "resent, and doubled")
	require.Equal(t, 2, l.Duplicates["b>a"])
	require.Zero(t, outboxLen(t, b, l.BtoA), "acknowledged and trimmed")
	require.Equal(t, int64(5), a.Value(kpDep))
	presenceOf(t, a, kp)
	require.Equal(t, []int64{5}, *log, "the deposit ran once")
}

// The sturdy-ref table is durable: a URL issued before a restart of the
// issuer (clean or kill -9) is redeemed after it, and a redemption whose
// message waits in the outbox survives a restart of the redeemer.
func TestURLSurvivesRestarts(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			l, root, log := fileURLLink(t)
			a, b := l.A, l.B
			url := b.IssueURL(root)
			b.RestartKernel(crash)
			u, _ := ocapurl.Parse(url)
			kref, ok := b.Store.SturdyRef(u.OID)
			require.True(t, ok, "the entry survived")
			require.Equal(t, string(root), kref)
			a.RestartKernel(crash)
			kp := a.RedeemURL(url)
			// The host's wait ends with the process (Resume drops it), so
			// the proof of the redemption is a send made before.
			kpDep := a.Call(kp, "deposit", int64(2))
			a.RunUntilQuiescent(0)
			a.RestartKernel(crash)
			require.Equal(t, 2, outboxLen(t, a, l.AtoB), "the redeem and the deposit wait in the outbox")
			b.RestartKernel(crash)
			l.Settle(0)
			require.Equal(t, []int64{2}, *log, "the pipelined deposit ran once, through the redemption")
			_, seen := a.Result(kpDep)
			require.False(t, seen, "the host that waited is gone")
			// A new redemption after all that works and sees the same bank.
			kp2 := a.RedeemURL(url)
			kpDep2 := a.Call(kp2, "deposit", int64(3))
			l.Settle(0)
			require.Equal(t, int64(5), a.Value(kpDep2))
			require.Zero(t, outboxLen(t, a, l.AtoB))
			require.Zero(t, outboxLen(t, b, l.BtoA))
		})
	}
}

// Redemptions over a link that drops and doubles messages and acks at
// random, while either kernel is restarted or killed between steps: B
// has n banks, each with a URL issued at the start (so most redemptions
// come after restarts of the issuer); A redeems each once and pipelines
// two deposits on the redemption. Each deposit runs exactly once, and the
// two of each bank in order (E-order on the redemption), and the
// auditors are green after every step. Each bank is redeemed once, so
// that no object is exported again while the peer's drop of it may be
// in flight (a crossing the endpoint does not handle yet: see
// docs/remote.md, "Status"). -url.seed=N replays one seed.
func TestURLRedeemFaultyLink(t *testing.T) {
	seeds := make([]uint64, 0, *flagURLSeeds)
	if *flagURLSeed != 0 {
		seeds = append(seeds, *flagURLSeed)
	} else {
		base := uint64(time.Now().UnixNano())
		for i := 0; i < *flagURLSeeds; i++ {
			seeds = append(seeds, base+uint64(i))
		}
	}
	for _, seed := range seeds {
		ok := t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { urlFaultyLink(t, seed) })
		if !ok {
			t.Logf("failed seed %d: replay with -run TestURLRedeemFaultyLink -url.seed=%d", seed, seed)
			return
		}
	}
}

func urlFaultyLink(t *testing.T, seed uint64) {
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	l, _, _ := fileURLLink(t)
	a, b := l.A, l.B
	const n = 5
	var urls []string
	var logs []*[]int64
	for i := 0; i < n; i++ {
		_, root, log := namedBank(b, fmt.Sprintf("bank%d", i))
		urls = append(urls, b.IssueURL(root))
		logs = append(logs, log)
	}
	redeemed := 0
	fault := func(uint64) kt.Fault {
		switch rng.IntN(5) {
		case 0:
			return kt.Drop
		case 1:
			return kt.Twice
		}
		return kt.Deliver
	}
	for step := 0; step < 400 && (redeemed < n || !drained(a, b, l)); step++ {
		switch rng.IntN(8) {
		case 0:
			if redeemed < n {
				kp := a.RedeemURL(urls[redeemed])
				a.Call(kp, "deposit", int64(1))
				a.Call(kp, "deposit", int64(2))
				redeemed++
			}
		case 1:
			a.Crank()
		case 2:
			b.Crank()
		case 3:
			l.AB().Pump(fault, rng.IntN(3) != 0)
		case 4:
			l.BA().Pump(fault, rng.IntN(3) != 0)
		case 5:
			if rng.IntN(3) == 0 {
				[]*kt.Driver{a, b}[rng.IntN(2)].RestartKernel(rng.IntN(2) == 0)
			}
		default:
			a.Crank()
			b.Crank()
		}
	}
	for redeemed < n { // the steps ran out first: redeem the rest now
		kp := a.RedeemURL(urls[redeemed])
		a.Call(kp, "deposit", int64(1))
		a.Call(kp, "deposit", int64(2))
		redeemed++
	}
	l.Settle(0)
	for i, log := range logs {
		require.Equal(t, []int64{1, 2}, *log, "bank %d: each deposit exactly once, in order", i)
	}
	require.Len(t, b.Store.SturdyRefOIDs(), n, "every URL still redeemable")
	require.Zero(t, outboxLen(t, a, l.AtoB))
	require.Zero(t, outboxLen(t, b, l.BtoA))
	t.Logf("messages applied %v, duplicates dropped %v", l.Applied, l.Duplicates)
}
