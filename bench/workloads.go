package bench

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
)

// pingpongJS is the js workload's vat, written to a temporary file at
// each run: the JavaScript runtime bundles a .js file itself at launch.
//
//go:embed js/pingpong.js
var pingpongJS []byte

// workload is one kind of run. Its cranks come from messages: run sends
// n of them and returns when the last one's work is done.
type workload struct {
	name, summary string
	// cluster is the subcluster the workload runs on; jsDir is a
	// temporary directory for the js workload's vat file.
	cluster func(o Options, jsDir string) (kernel.ClusterConfig, error)
	// setup runs once after launch, untimed (bigstore's fill, bigcrank's
	// big crank); what it reports goes to Result.Extra.
	setup func(ctx context.Context, s *session) (map[string]float64, error)
	// run sends n messages and waits for them.
	run func(ctx context.Context, s *session, n int) error
}

// ErrUnknownWorkload is returned for a workload name that is not one of
// Workloads.
var ErrUnknownWorkload = errors.New("bench: unknown workload")

// Workloads lists the workloads' names in the order the docs give them.
func Workloads() []string {
	names := make([]string, len(workloads))
	for i, w := range workloads {
		names[i] = w.name
	}
	return names
}

// Summary returns a workload's one-line description ("" for an unknown name).
func Summary(name string) string {
	if w, err := lookup(name); err == nil {
		return w.summary
	}
	return ""
}

func lookup(name string) (*workload, error) {
	i := slices.IndexFunc(workloads, func(w workload) bool { return w.name == name })
	if i < 0 {
		return nil, fmt.Errorf("%w %q (want one of %v)", ErrUnknownWorkload, name, Workloads())
	}
	return &workloads[i], nil
}

// twoVats is alice (the driver, bootstrap) and bob (the peer).
func twoVats(Options, string) (kernel.ClusterConfig, error) {
	return kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: BundleDriver}, "bob": {Bundle: BundlePeer},
	}}, nil
}

// driverCall has alice run method(args...): one host message whose
// delivery runs the whole workload.
func driverCall(method string, extra ...func(Options) any) func(context.Context, *session, int) error {
	return func(ctx context.Context, s *session, n int) error {
		// One message for the whole workload: the host's own round trip is
		// paid once, so the figures are the vats' and the kernel's.
		args := []any{n}
		for _, f := range extra {
			args = append(args, f(s.opts))
		}
		_, err := s.k.QueueMessage(ctx, s.res.RootKref, method, args...)
		return err
	}
}

var workloads = []workload{
	{
		name: "pingpong", summary: "alice awaits E(bob).ping(i) N times (the reference's)",
		cluster: twoVats, run: driverCall("pingpong"),
	},
	{
		name: "fanout", summary: "alice sends N pings without awaiting, then awaits them all (the reference's)",
		cluster: twoVats, run: driverCall("fanout"),
	},
	{
		name: "external", summary: "the host's QueueMessage to bob, N times in a row (the reference's)",
		cluster: twoVats,
		// The host's own round trip, each message waiting for the one before:
		// a crank each, plus the request and answer through the kernel
		// actor's mailbox.
		run: func(ctx context.Context, s *session, n int) error {
			bob := s.res.Roots["bob"]
			for i := 0; i < n; i++ {
				if _, err := s.k.QueueMessage(ctx, bob, "ping", i); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		name: "pipeline", summary: "N sends in chains of --k, each to the promise of the one before, all sent before any is awaited",
		cluster: twoVats, run: driverCall("pipeline", func(o Options) any { return o.K }),
	},
	{
		name: "manyvats", summary: "a token passed N times around a ring of --vats vats",
		cluster: func(o Options, _ string) (kernel.ClusterConfig, error) {
			cfg := kernel.ClusterConfig{Bootstrap: ringName(0), Vats: map[string]kernel.VatConfig{}}
			for i := 0; i < o.Vats; i++ {
				cfg.Vats[ringName(i)] = kernel.VatConfig{Bundle: BundleRing}
			}
			return cfg, nil
		},
		run: func(ctx context.Context, s *session, n int) error {
			_, err := s.k.QueueMessage(ctx, s.res.RootKref, "start", n)
			return err
		},
	},
	{
		name: "bigstore", summary: "ping-pong while the kernel holds --objects live objects",
		cluster: twoVats, run: driverCall("pingpong"),
		setup: func(ctx context.Context, s *session) (map[string]float64, error) {
			// Untimed for the figures (it is reported apart): the workload
			// asks what the crank costs with the objects there, not what
			// making them costs.
			began := time.Now()
			if _, err := s.k.QueueMessage(ctx, s.res.RootKref, "fill", s.opts.Objects, true); err != nil {
				return nil, fmt.Errorf("filling the store: %w", err)
			}
			if err := s.k.WaitIdle(ctx); err != nil {
				return nil, err
			}
			return map[string]float64{"fill_ms": ms(time.Since(began))}, nil
		},
	},
	{
		name: "bigcrank", summary: "one crank that exports --objects objects (then dropped and collected), then ping-pong",
		cluster: twoVats, run: driverCall("pingpong"),
		setup: func(ctx context.Context, s *session) (map[string]float64, error) {
			// The crank that makes the objects is timed by OnCrank like any
			// other; the slowest crank of the set-up is it.
			s.inSetup.Store(true)
			defer s.inSetup.Store(false)
			began := time.Now()
			if _, err := s.k.QueueMessage(ctx, s.res.RootKref, "fill", s.opts.Objects, false); err != nil {
				return nil, fmt.Errorf("the big crank: %w", err)
			}
			// alice dropped them: bring-out-your-dead collects them, so the
			// ping-pong after runs on a store as small as before, and only
			// what the big crank left behind (map capacity) can slow it.
			if err := s.k.ScheduleReap(ctx, s.res.VatIDs["alice"]); err != nil {
				return nil, err
			}
			if err := s.k.WaitIdle(ctx); err != nil {
				return nil, err
			}
			return map[string]float64{"setup_ms": ms(time.Since(began)), "big_crank_ms": ms(s.setupMaxCrank())}, nil
		},
	},
	{
		name: "js", summary: "alice awaits E(bob).ping(i) N times, both JavaScript vats (needs Node.js and the worker)",
		cluster: func(o Options, jsDir string) (kernel.ClusterConfig, error) {
			if o.JS == nil {
				return kernel.ClusterConfig{}, fmt.Errorf("bench: the js workload needs a JavaScript runtime (Options.JS): %w", actors.ErrNoJSRuntime)
			}
			// A .js file, which the worker bundles at launch: no bundle file
			// to ship beside the binary, at the cost of a slower start-up.
			file := filepath.Join(jsDir, "pingpong.js")
			if err := os.WriteFile(file, pingpongJS, 0o600); err != nil {
				return kernel.ClusterConfig{}, err
			}
			return kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
				"alice": {BundleSpec: file, Parameters: map[string]any{"peer": "bob"}},
				"bob":   {BundleSpec: file, Parameters: map[string]any{"peer": "alice"}},
			}}, nil
		},
		run: func(ctx context.Context, s *session, n int) error {
			_, err := s.k.QueueMessage(ctx, s.res.RootKref, "run", n)
			return err
		},
	},
}

// ms is d in milliseconds, for the JSON fields named _ms.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
