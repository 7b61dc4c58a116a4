package chaos

import (
	"fmt"
	mrand "math/rand/v2"
	"time"
)

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
// changes an address at least once.
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
	firstKill := true
	for i := 0; i < len(kinds); i++ {
		s := step{progress: 1 + rng.IntN(2*p.window)}
		kill := kinds[i]
		if !kill {
			s.partition = pick()
			s.hold = time.Duration(100+rng.IntN(1400)) * time.Millisecond
			if i+1 < len(kinds) && kinds[i+1] && rng.IntN(2) == 0 {
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
