package chaos

import (
	"context"
	"flag"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var (
	flagSeed = flag.Uint64("chaos.seed", 0, "the seed of a chaos run's schedule, to replay one (0: from the clock)")
	flagLong = flag.Bool("chaos.long", false, "run the long form: 200 kills and 50 partitions in TestChaosNetns, 50 kills in TestChaosLoopback")
	flagKill = flag.Int("chaos.kills", -1, "override the number of kills (-1: the form's)")
	flagPart = flag.Int("chaos.partitions", -1, "override the number of partitions in TestChaosNetns (-1: the form's)")
)

// window is how many deposits each client has unsettled at most.
const window = 8

// Three kernel processes on loopback, over mutual TLS: a bank and two
// clients depositing into it, each kernel on its own file. Kernels are
// killed with SIGKILL at random in the middle of the traffic and started
// again on their files, the first of them (and half of the others) on a
// new port, which its peers are told. After the run every acknowledged
// deposit was taken exactly once, in order per client; nothing was
// doubled; every auditor is green; every outbox drained.
func TestChaosLoopback(t *testing.T) {
	if asKernel(t) {
		return
	}
	p := plan{kills: 4, window: window}
	if *flagLong {
		p.kills = 50
	}
	if *flagKill >= 0 {
		p.kills = *flagKill
	}
	runChaos(t, "TestChaosLoopback", loopback{}, p)
}

// The same three kernels, each in a network namespace of its own joined
// to the others by a bridge (so the link is TLS between real addresses),
// with partitions: a kernel's link is cut for a while and healed, and
// sometimes a kernel is killed while a link is down.
func TestChaosNetns(t *testing.T) {
	if asKernel(t) {
		return
	}
	n := newNetns(t)
	p := plan{kills: 3, partitions: 3, window: window}
	if *flagLong {
		p.kills, p.partitions = 200, 50
	}
	if *flagKill >= 0 {
		p.kills = *flagKill
	}
	if *flagPart >= 0 {
		p.partitions = *flagPart
	}
	runChaos(t, "TestChaosNetns", n, p)
}

// runChaos runs one seeded run of p and checks it.
func runChaos(t *testing.T, test string, net network, p plan) {
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -chaos.seed=%d)", seed, seed)
	rng := mrand.New(mrand.NewPCG(seed, seed))
	group := initialCommit(rng)
	steps := schedule(rng, p)
	began := time.Now()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newConductor(ctx, t, test, net, p)
	c.setUp(group)
	for i, s := range steps {
		c.progress(s.progress)
		if testing.Verbose() {
			t.Logf("step %d/%d: %s", i+1, len(steps), s)
		}
		if s.partition != "" {
			c.partition(s)
		} else {
			c.kill(s.kill, s.down, s.newPort, s.group)
		}
	}
	c.progress(1 + p.window)
	reports := c.finish()
	wall := time.Since(began)

	tl, problems := checkDeposits(c.acked, reports[bankName].Logs)
	t.Logf("seed %d: %d kills (%d restarts on a new address), %d partitions, %d incarnations under group commit; deposits acknowledged %d, logged %d, lost %d, doubled %d, out of order %d; max pending %d; wall %v",
		seed, c.kills, c.moves, c.partitions, c.groups, tl.Acked, tl.Logged, tl.Lost, tl.Doubled, tl.OutOfOrder, c.maxPending, wall.Round(time.Millisecond))
	for _, name := range kernelNames {
		r := reports[name]
		t.Logf("kernel %s: %d audits in its last incarnation, %d problems at the end, outbox %d", name, r.Audits, len(r.Problems), r.Pending)
		require.Empty(t, r.Problems, "kernel %s's auditor at the end", name)
		require.Zero(t, r.Pending, "kernel %s's outboxes drained", name)
	}
	require.Empty(t, c.ackConflicts, "a deposit answered twice, differently")
	require.Empty(t, problems, "exactly once and E-order")
	require.Equal(t, p.kills, c.kills, "the schedule's kills all ran")
	require.Equal(t, p.partitions, c.partitions, "the schedule's partitions all ran")
	if p.kills > 0 {
		require.Positive(t, c.moves, "a kernel restarted on a new address")
	}
	// Backpressure bounds every outbox: a client has at most window
	// deposits unsettled, each one message in its outbox; the bank's
	// outbox to it holds their answers and those of deposits settled but
	// not yet acknowledged, which the client's next frames acknowledge.
	require.LessOrEqual(t, c.maxPending, 2*p.window, "an outbox outgrew what the clients' window allows")
	require.Positive(t, tl.Acked, "deposits went through")
}
