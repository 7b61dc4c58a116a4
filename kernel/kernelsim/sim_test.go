package kernelsim_test

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ocapgo/kernel-actors/kernel/kernelsim"
)

var (
	flagSeed    = flag.Uint64("sim.seed", 0, "run only this seed, logging every step and crank")
	flagFirst   = flag.Uint64("sim.first", 1, "the first seed")
	flagSeeds   = flag.Int("sim.seeds", 250, "how many seeds the short form runs")
	flagCranks  = flag.Int("sim.cranks", 0, "the long form: run seeds from -sim.first until this many cranks have run (at least 100000 for the record)")
	flagOps     = flag.Int("sim.ops", 0, "cut every program to its first N steps, to shrink a failure")
	flagSteps   = flag.String("sim.steps", "", "program length MIN-MAX (default 12-36 in the short form, 60-180 in the long form)")
	flagPending = flag.String("sim.pending", "", "kernel behaviours that have not landed: eorder,abandon,resume,sendonly,validate or all")
	flagKnown   = flag.String("sim.known", "", "checks of known, reported kernel bugs: counted, not failing (e.g. relay)")
	flagV       = flag.Bool("sim.v", false, "log every step and crank of every seed")
)

// TestSimulation runs seeded random programs over several vats and checks
// every crank against the auditor and the model of E-order and
// exactly-once (see the package doc). A failure prints its seed, its
// program and the command that replays it.
func TestSimulation(t *testing.T) {
	pending, err := kernelsim.ParseFeatures(*flagPending)
	if err != nil {
		t.Fatal(err)
	}
	opts := kernelsim.Options{Pending: pending, Dir: t.TempDir()}
	if *flagKnown != "" {
		opts.Known = strings.Split(*flagKnown, ",")
	}
	gen := kernelsim.GenOptions{Pending: pending, MinSteps: 12, MaxSteps: 36}
	if *flagCranks > 0 {
		gen.MinSteps, gen.MaxSteps = 60, 180
	}
	if *flagSteps != "" {
		if _, err := fmt.Sscanf(*flagSteps, "%d-%d", &gen.MinSteps, &gen.MaxSteps); err != nil {
			t.Fatalf("-sim.steps=%q: want MIN-MAX: %v", *flagSteps, err)
		}
	}
	replay := func(seed uint64) string {
		cmd := fmt.Sprintf("go test ./kernel/kernelsim -run 'TestSimulation$' -sim.seed=%d", seed)
		if pending != 0 {
			cmd += " -sim.pending=" + pending.String()
		}
		cmd += fmt.Sprintf(" -sim.steps=%d-%d", gen.MinSteps, gen.MaxSteps)
		if *flagOps > 0 {
			cmd += fmt.Sprintf(" -sim.ops=%d", *flagOps)
		}
		if *flagKnown != "" {
			cmd += " -sim.known=" + *flagKnown
		}
		return cmd
	}
	run := func(seed uint64, o kernelsim.Options) *kernelsim.Result {
		p := kernelsim.Generate(seed, gen)
		if *flagOps > 0 && *flagOps < len(p.Steps) {
			p.Steps = p.Steps[:*flagOps]
		}
		return kernelsim.Run(t, p, o)
	}
	if *flagSeed != 0 {
		o := opts
		o.Log = t.Logf
		r := run(*flagSeed, o)
		t.Logf("%s\n%s", r.Program, r.Stats)
		if r.Failed() {
			t.Fatal(r.Report(replay(*flagSeed)))
		}
		return
	}
	if *flagV {
		opts.Log = t.Logf
	}
	var total kernelsim.Stats
	var failed []*kernelsim.Result
	byCheck := map[string][]uint64{}
	seed := *flagFirst
	for n := 0; ; n, seed = n+1, seed+1 {
		if *flagCranks > 0 {
			if total.Cranks >= *flagCranks {
				break
			}
		} else if n >= *flagSeeds {
			break
		}
		r := run(seed, opts)
		total.Add(r.Stats)
		if r.Failed() {
			failed = append(failed, r)
			byCheck[r.Checks[0]] = append(byCheck[r.Checks[0]], seed)
		}
	}
	t.Logf("seeds %d to %d, pending %q:\n%s", *flagFirst, seed-1, pending, total)
	if len(failed) == 0 {
		return
	}
	for _, r := range failed[:min(3, len(failed))] {
		t.Error(r.Report(replay(r.Program.Seed)))
	}
	var lines []string
	for _, c := range slices.Sorted(maps.Keys(byCheck)) {
		seeds := byCheck[c]
		lines = append(lines, fmt.Sprintf("  [%s] %d seeds: %v", c, len(seeds), seeds[:min(20, len(seeds))]))
	}
	t.Errorf("%d of %d seeds failed; by the check of their first violation:\n%s", len(failed), total.Seeds, strings.Join(lines, "\n"))
}

// TestRunsReplayExactly: a seed makes one program and one execution, so
// that -sim.seed replays a failure exactly.
func TestRunsReplayExactly(t *testing.T) {
	// The known bugs looked past, so that each program runs to its end.
	opts := kernelsim.Options{Known: []string{"relay"}}
	// The first seeds with a durable file (kernel crashes), a file with
	// group commit, and memory.
	var programs []kernelsim.Program
	for _, want := range []struct{ file, group bool }{{true, false}, {true, true}, {false, true}} {
		for seed := uint64(1); ; seed++ {
			if p := kernelsim.Generate(seed, kernelsim.GenOptions{Pending: opts.Pending}); p.File == want.file && (p.Group > 0) == want.group {
				programs = append(programs, p)
				break
			}
		}
	}
	for _, p := range programs {
		seed := p.Seed
		if q := kernelsim.Generate(seed, kernelsim.GenOptions{Pending: opts.Pending}); q.String() != p.String() {
			t.Fatalf("seed %d made two programs:\n%s\n%s", seed, p, q)
		}
		var logs [2][]string
		for i := range logs {
			o := opts
			o.Log = func(format string, args ...any) { logs[i] = append(logs[i], fmt.Sprintf(format, args...)) }
			if r := kernelsim.Run(t, p, o); r.Failed() {
				t.Fatal(r.Report("go test ./kernel/kernelsim -run TestRunsReplayExactly"))
			}
		}
		if len(logs[0]) < 2*len(p.Steps) {
			t.Fatalf("seed %d: %d log lines for %d steps", seed, len(logs[0]), len(p.Steps))
		}
		if !slices.Equal(logs[0], logs[1]) {
			for i := range min(len(logs[0]), len(logs[1])) {
				if logs[0][i] != logs[1][i] {
					t.Fatalf("seed %d ran two ways; first difference at line %d:\n%s\n%s", seed, i, logs[0][i], logs[1][i])
				}
			}
			t.Fatalf("seed %d ran two ways: %d and %d lines", seed, len(logs[0]), len(logs[1]))
		}
	}
}

// TestGeneratorCoversEveryKind: over a few hundred seeds the generator
// makes every kind of step and every hostile syscall, and leaves out
// those a pending feature needs.
func TestGeneratorCoversEveryKind(t *testing.T) {
	var kinds [32]int
	var hostile [32]int
	only, file, group := 0, 0, 0
	for seed := uint64(1); seed <= 300; seed++ {
		p := kernelsim.Generate(seed, kernelsim.GenOptions{})
		file += map[bool]int{true: 1}[p.File]
		group += map[bool]int{true: 1}[p.Group > 0]
		for _, s := range p.Steps {
			kinds[s.Kind]++
			if s.Kind == kernelsim.KindHostile {
				hostile[s.Hostile]++
			}
			if s.Only {
				only++
			}
		}
		for _, s := range kernelsim.Generate(seed, kernelsim.GenOptions{Pending: kernelsim.FeatureSendOnly | kernelsim.FeatureValidate}).Steps {
			if s.Only || (s.Kind == kernelsim.KindHostile && s.Hostile >= kernelsim.HostileMalformedBody) {
				t.Fatalf("seed %d: %s generated with sendonly and validate pending", seed, s)
			}
		}
	}
	for k := kernelsim.KindHostSend; k <= kernelsim.KindLaunch; k++ {
		if kinds[k] == 0 {
			t.Errorf("no %s step in 300 seeds", k)
		}
	}
	for h := kernelsim.HostileUnknownImport; h <= kernelsim.HostileUnusedSlot; h++ {
		if hostile[h] == 0 {
			t.Errorf("no hostile %s in 300 seeds", h)
		}
	}
	if only == 0 || file == 0 || group == 0 {
		t.Errorf("300 seeds made %d sendOnly sends, %d file stores, %d group commits", only, file, group)
	}
}
