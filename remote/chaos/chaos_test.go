package chaos

import (
	"context"
	"flag"
	"fmt"
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
	t.Logf("seed %d: %d kills (%d restarts on a new address, %d of them for want of the old port), %d partitions (%d with a kill inside, %d checked to hold), %d incarnations under group commit; deposits acknowledged %d, logged %d, lost %d, doubled %d, out of order %d, skipped %d; max pending %d; wall %v",
		seed, c.kills, c.moves, c.portTaken, c.partitions, c.killsInCut, c.cutsChecked, c.groups, tl.Acked, tl.Logged, tl.Lost, tl.Doubled, tl.OutOfOrder, tl.Skipped, c.maxPending, wall.Round(time.Millisecond))
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
	if p.partitions > 0 {
		require.Positive(t, c.cutsChecked, "a cut was checked to hold")
	}
	// Backpressure bounds every outbox: a client has at most window
	// deposits unsettled, each one message in its outbox; the bank's
	// outbox to it holds their answers and those of deposits settled but
	// not yet acknowledged, which the client's next frames acknowledge.
	require.LessOrEqual(t, c.maxPending, 2*p.window, "an outbox outgrew what the clients' window allows")
	require.Positive(t, tl.Acked, "deposits went through")
}

// A run's schedule, drawn whole from its seed before the run starts: the
// same seed gives the same kills, victims, ports, partitions and pauses
// (the kernels' own timing is the machine's).

// plan is what a run does.
type plan struct {
	kills, partitions int
	// window is how many deposits a client has unsettled at most.
	window int
}

// step is one event of the schedule.
type step struct {
	// progress is how many new acknowledged deposits each client must
	// see before the step starts: traffic runs between steps, and every
	// kill and cut falls in the middle of it.
	progress int
	// partition, when set, cuts this kernel's link for hold.
	partition string
	hold      time.Duration
	// kill, when set, is SIGKILLed (during the partition, if there is
	// one), down for down, and restarted on the same store; on a new
	// port if newPort.
	kill    string
	down    time.Duration
	newPort bool
	// group restarts the killed kernel under group commit.
	group bool
}

func (s step) String() string {
	var out string
	if s.partition != "" {
		out = fmt.Sprintf("cut %s for %v", s.partition, s.hold)
	}
	if s.kill != "" {
		if out != "" {
			out += ", inside it "
		}
		port := "same port"
		if s.newPort {
			port = "new port"
		}
		commit := "durable"
		if s.group {
			commit = "group commit"
		}
		out += fmt.Sprintf("kill -9 %s, down %v, restart on the %s, %s", s.kill, s.down, port, commit)
	}
	return out
}

// initialCommit draws each kernel's first commit policy: true is group
// commit.
func initialCommit(rng *mrand.Rand) map[string]bool {
	group := map[string]bool{}
	for _, name := range kernelNames {
		group[name] = rng.IntN(2) == 0
	}
	return group
}

// schedule draws p's steps from rng. Kills and partitions come in a
// shuffled order; a partition followed by a kill takes the kill inside
// it half the time (a kernel dies while it is cut off, or while its
// peers are). The first kill always restarts on a new port: every run
// changes an address at least once. The first partition is long enough
// to be checked, with no kill inside.
func schedule(rng *mrand.Rand, p plan) []step {
	kinds := make([]bool, 0, p.kills+p.partitions) // true: a kill
	for range p.kills {
		kinds = append(kinds, true)
	}
	for range p.partitions {
		kinds = append(kinds, false)
	}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	pick := func() string { return kernelNames[rng.IntN(len(kernelNames))] }
	var steps []step
	firstKill, firstCut := true, true
	for i := 0; i < len(kinds); i++ {
		s := step{progress: 1 + rng.IntN(2*p.window)}
		kill := kinds[i]
		if !kill {
			s.partition = pick()
			s.hold = time.Duration(100+rng.IntN(1400)) * time.Millisecond
			if firstCut {
				// The first cut is long and has no kill inside: every
				// run checks that a cut holds at least once.
				s.hold = checkedCut + time.Duration(rng.IntN(700))*time.Millisecond
				firstCut = false
			} else if i+1 < len(kinds) && kinds[i+1] && rng.IntN(2) == 0 {
				kill = true
				i++
			}
		}
		if kill {
			s.kill = pick()
			s.down = time.Duration(rng.IntN(500)) * time.Millisecond
			s.newPort = firstKill || rng.IntN(2) == 0
			s.group = rng.IntN(2) == 0
			firstKill = false
		}
		steps = append(steps, s)
	}
	return steps
}

// A seed gives one schedule, with exactly the form's kills and
// partitions; the first kill always moves its kernel, and the first cut
// is one whose hold is checked.
func TestScheduleFromSeed(t *testing.T) {
	p := plan{kills: 20, partitions: 10, window: window}
	draw := func(seed uint64) []step { return schedule(mrand.New(mrand.NewPCG(seed, seed)), p) }
	a := draw(7)
	require.Equal(t, a, draw(7), "a seed replays its schedule")
	require.NotEqual(t, a, draw(8))
	kills, parts, inside := 0, 0, 0
	first := true
	for _, s := range a {
		require.Positive(t, s.progress)
		if s.partition != "" {
			if parts == 0 {
				require.GreaterOrEqual(t, s.hold, checkedCut, "the first cut is checked")
				require.Empty(t, s.kill, "the first cut has no kill inside")
			}
			parts++
			require.GreaterOrEqual(t, s.hold, 100*time.Millisecond)
		}
		if s.kill != "" {
			kills++
			if s.partition != "" {
				inside++
			}
			if first {
				require.True(t, s.newPort, "the first restart changes the address")
				first = false
			}
		}
	}
	require.Equal(t, p.kills, kills)
	require.Equal(t, p.partitions, parts)
	require.Positive(t, inside, "some kills fall inside a partition")
}
