package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// The remote bench's modes: the floor, then the kernel under each commit
// policy.
const (
	modeBare    = "bare"
	modeDurable = "durable"
	modeGroup   = "group"
)

// remoteBenchFlags are bench remote's flags, as parsed.
type remoteBenchFlags struct {
	n, warmup, rounds, window int
	store, sync               string
	commits                   string
	asJSON                    bool
	profile                   string
	timeout                   time.Duration
}

// runBenchRemote is `bench remote`: cross-kernel round trips between two
// kernel processes, beside protoactor-go's bare remote request/response
// between two processes, measured in the same run, round by round.
func runBenchRemote(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench remote", "[--n N] [--rounds R] [--store memory|file] [--commit durable,group] [--json]", `
Measures cross-kernel round trips on loopback: a host on kernel A sends
ping(i) to an object in kernel B, and B's answer settles A's promise;
the next starts when the last has settled (--window W keeps W in flight
in every mode). Each kernel is a process of
its own (this binary started again), joined by a link (protoactor-go
remote, plaintext on loopback). In the same run, between the kernels'
rounds, it measures the floor: protoactor-go's own remote
request/response between two other processes (an echo actor asked with
RequestFuture, one after another), on the same transport.

Each round times --n round trips of each mode in turn (bare, then each
--commit policy), so that a burst of someone else's load falls on all
of them; the figure is the median of the rounds, and the ratio is to
the bare median of the same run.

Output: a table, or with --json one JSON line a mode and round and one
of medians ("median": true), on stdout.`)
	var f remoteBenchFlags
	// A thousand round trips a round: long enough that a round is not one
	// scheduler hiccup, short enough that five rounds of durable commit on a
	// file (about 100 a second here) take under a minute.
	fs.IntVar(&f.n, "n", 1000, "round trips timed in each round, for each mode")
	fs.IntVar(&f.warmup, "warmup", 200, "round trips run first, untimed, for each mode")
	fs.IntVar(&f.rounds, "rounds", 5, "rounds (the figure is their median)")
	fs.IntVar(&f.window, "window", 1, "round trips in flight at once, in every mode (1: each starts when the last has settled)")
	// A file by default, unlike bench's workloads: durable and group commit
	// mean what they say only on a file, and a round trip's three commits
	// are the point of the measure.
	fs.StringVar(&f.store, "store", "file", "the kernels' stores: file (SQLite in a temporary directory, removed after) or memory")
	fs.StringVar(&f.sync, "sync", "full", "the file stores' synchronous: full (a commit survives power loss) or normal (it survives a crash of the process: kill -9)")
	fs.StringVar(&f.commits, "commit", "durable,group", "the commit policies measured, comma-separated")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON line a mode and round, and one of medians")
	fs.StringVar(&f.profile, "cpuprofile", "", "write a CPU profile of each kernel process into this directory")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up after this long, killing every process it started")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	// Checked before any process starts, so a bad flag costs nothing.
	commits, err := f.check()
	if err != nil {
		return err
	}
	if f.profile != "" {
		// The children write their profiles there; they cannot make it.
		if err := os.MkdirAll(f.profile, 0o755); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	// One deadline for the whole run: a child that hangs is killed with the
	// rest, and the command says why.
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var peers peerSet
	// INVARIANT: every child is killed on the way out, whatever the way.
	defer peers.killAll()

	show := status{w: e.stderr, on: e.isTerminal}
	defer show.clear()
	// The kernels' files, removed at the end: a bench leaves nothing.
	dir, err := os.MkdirTemp("", "kernel-actors-bench-remote-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	show.say("starting the processes")
	modes := []benchMode{}
	// Every mode's processes are started first and kept for the whole run:
	// the rounds then interleave the modes without paying start-up between
	// them.
	bare, err := startBarePair(ctx, &peers, e.stderr, f)
	if err != nil {
		return err
	}
	modes = append(modes, bare)
	for _, c := range commits {
		m, err := startKernelPair(ctx, &peers, e.stderr, c, f, dir)
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		modes = append(modes, m)
	}
	// The first round trips of a link pay for its connection, the gRPC
	// streams and the caches: untimed.
	for _, m := range modes {
		show.say("warming up: " + m.name)
		if f.warmup > 0 {
			if _, err := m.trips(ctx, f.warmup); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
	}
	rates := map[string][]float64{}
	enc := json.NewEncoder(e.stdout)
	// Round by round, every mode in turn: load that comes and goes (2 shared
	// cores) falls on all modes alike, so the ratios of a run hold even when
	// its absolute figures move.
	for r := 1; r <= f.rounds; r++ {
		for _, m := range modes {
			show.say(fmt.Sprintf("round %d of %d: %s", r, f.rounds, m.name))
			ns, err := m.trips(ctx, f.n)
			if err != nil {
				return fmt.Errorf("%s: round %d: %w", m.name, r, err)
			}
			rate := float64(f.n) / (float64(ns) / 1e9)
			rates[m.name] = append(rates[m.name], rate)
			// Each round's line as soon as it is measured, as bench does, so a long
			// run can be followed.
			if f.asJSON {
				if err := enc.Encode(remoteResult{Bench: "remote", Mode: m.name, Round: r, Params: f.params(),
					RoundTrips: f.n, WallMS: float64(ns) / 1e6, PerS: rate, UsPerTrip: float64(ns) / 1e3 / float64(f.n)}); err != nil {
					return err
				}
			}
		}
	}
	// The kernels' auditors, after all of it: a figure of a kernel that
	// broke an invariant would be no figure.
	for _, m := range modes {
		if m.audit == nil {
			continue
		}
		if err := m.audit(ctx); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	for _, m := range modes {
		if err := m.quit(ctx); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
	}
	show.clear()
	// Medians, not means: one slow round (someone else's burst, an fsync
	// stall) does not move the figure.
	bareMed := median(rates[modeBare])
	var meds []remoteResult
	for _, m := range modes {
		med := median(rates[m.name])
		meds = append(meds, remoteResult{Bench: "remote", Mode: m.name, Median: true, Params: f.params(), RoundTrips: f.n,
			PerS: med, UsPerTrip: 1e6 / med, VsBare: med / bareMed, Rounds: rates[m.name]})
	}
	if f.asJSON {
		for _, m := range meds {
			if err := enc.Encode(m); err != nil {
				return err
			}
		}
		return nil
	}
	return writeRemoteTable(e.stdout, f, meds)
}

// remoteResult is one JSON line of bench remote: a mode's round, or (with
// Median) its median over the rounds.
type remoteResult struct {
	Bench  string            `json:"bench"`
	Mode   string            `json:"mode"`
	Round  int               `json:"round"` // 0 on a median line
	Median bool              `json:"median,omitempty"`
	Params map[string]string `json:"params"`
	// RoundTrips is how many round trips each round timed.
	RoundTrips int     `json:"round_trips"`
	WallMS     float64 `json:"wall_ms,omitempty"`
	// PerS is round trips per second; UsPerTrip one round trip's mean
	// time in microseconds.
	PerS      float64 `json:"round_trips_per_s"`
	UsPerTrip float64 `json:"us_per_round_trip"`
	// VsBare is PerS over the bare mode's median of the same run (median
	// lines only).
	VsBare float64 `json:"vs_bare,omitempty"`
	// Rounds are the rounds' figures (median lines only).
	Rounds []float64 `json:"rounds_per_s,omitempty"`
}

func (f *remoteBenchFlags) params() map[string]string {
	return map[string]string{"store": f.store, "window": fmt.Sprint(f.window), "sync": f.sync, "transport": "protoactor-go remote, plaintext, loopback"}
}

// check refuses bad values, naming the flag, and returns the policies.
// The same words as bench's own checks, so the two commands read alike.
func (f *remoteBenchFlags) check() ([]string, error) {
	for _, c := range []struct {
		name   string
		v, min int
	}{{"n", f.n, 1}, {"rounds", f.rounds, 1}, {"warmup", f.warmup, 0}, {"window", f.window, 1}} {
		if c.v < c.min {
			want := "a positive number"
			if c.min == 0 {
				want = "0 or more"
			}
			return nil, usageErr("--%s %d: want %s", c.name, c.v, want)
		}
	}
	if f.sync != "full" && f.sync != "normal" {
		return nil, usageErr("--sync %q: want full or normal", f.sync)
	}
	if f.store != "memory" && f.store != "file" {
		return nil, usageErr("--store %q: want memory or file", f.store)
	}
	var commits []string
	for _, c := range strings.Split(f.commits, ",") {
		c = strings.TrimSpace(c)
		if c != modeDurable && c != modeGroup {
			return nil, usageErr("--commit %q: want durable, group or both (durable,group)", f.commits)
		}
		// "durable,durable" is one mode, measured once.
		if !slices.Contains(commits, c) {
			commits = append(commits, c)
		}
	}
	if f.timeout <= 0 {
		return nil, usageErr("--timeout %v: want a positive duration", f.timeout)
	}
	return commits, nil
}

// writeRemoteTable writes the medians a person reads.
func writeRemoteTable(w io.Writer, f remoteBenchFlags, meds []remoteResult) error {
	// Right-aligned numbers, as bench's table: figures compare by their
	// digits.
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "mode\tround trips/s\tµs each\tvs bare\trounds (round trips/s)\t\n")
	for _, m := range meds {
		var rs []string
		for _, r := range m.Rounds {
			rs = append(rs, fmt.Sprintf("%.0f", r))
		}
		label := "kernel, " + m.Mode + " commit"
		if m.Mode == modeBare {
			label = "bare protoactor-go"
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f\t%s\t\n", label, m.PerS, m.UsPerTrip, m.VsBare, strings.Join(rs, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nmedians of %d rounds of %d round trips each (%d in flight at once), in one run; two processes a mode, on loopback; %s store, synchronous %s\n",
		f.rounds, f.n, f.window, f.store, f.sync)
	return err
}

// benchMode is one mode's two processes, ready to make round trips.
type benchMode struct {
	name  string
	trips func(ctx context.Context, n int) (ns int64, err error)
	audit func(ctx context.Context) error // nil for the bare mode
	quit  func(ctx context.Context) error
}

// startBarePair starts the bare floor's two processes.
func startBarePair(ctx context.Context, peers *peerSet, stderr io.Writer, f remoteBenchFlags) (benchMode, error) {
	// Both started before either is read, so their start-ups overlap.
	srv, err := peers.start(ctx, "the bare echo server", stderr, "bare-server")
	if err != nil {
		return benchMode{}, err
	}
	cl, err := peers.start(ctx, "the bare client", stderr, "bare-client")
	if err != nil {
		return benchMode{}, err
	}
	// The server's first line is its address; the client's says it is up.
	hello, err := srv.read(ctx)
	if err != nil {
		return benchMode{}, err
	}
	if _, err := cl.read(ctx); err != nil {
		return benchMode{}, err
	}
	return benchMode{
		name: modeBare,
		trips: func(ctx context.Context, n int) (int64, error) {
			a, err := cl.ask(ctx, peerLine{Op: "trips", N: n, Window: f.window, Addr: hello.Addr})
			return a.NS, err
		},
		quit: func(ctx context.Context) error {
			return joinErr(cl.quit(ctx), srv.quit(ctx))
		},
	}, nil
}

// startKernelPair starts two kernel processes under commit, introduces
// them, and gives A a presence of B's pong.
func startKernelPair(ctx context.Context, peers *peerSet, stderr io.Writer, commit string, f remoteBenchFlags, dir string) (benchMode, error) {
	// Each kernel on its own file, named by policy and side, so no run
	// resumes another's.
	args := func(who string) []string {
		a := []string{"kernel", "--vat", "pong", "--commit", commit}
		if f.store == "file" {
			a = append(a, "--db", filepath.Join(dir, commit+"-"+who+".db"), "--sync", f.sync)
		}
		if f.profile != "" {
			a = append(a, "--cpuprofile", filepath.Join(f.profile, commit+"-"+who+".pprof"))
		}
		return a
	}
	a, err := peers.start(ctx, "kernel A ("+commit+")", stderr, args("a")...)
	if err != nil {
		return benchMode{}, err
	}
	b, err := peers.start(ctx, "kernel B ("+commit+")", stderr, args("b")...)
	if err != nil {
		return benchMode{}, err
	}
	ha, err := a.read(ctx)
	if err != nil {
		return benchMode{}, err
	}
	hb, err := b.read(ctx)
	if err != nil {
		return benchMode{}, err
	}
	// The parent relays the introduction (addresses, keys, the ref); the
	// round trips themselves go over the link alone.
	presence, aToB, bToA, err := introduce(ctx, a, b, ha, hb)
	if err != nil {
		return benchMode{}, err
	}
	return benchMode{
		name: commit,
		trips: func(ctx context.Context, n int) (int64, error) {
			ans, err := a.ask(ctx, peerLine{Op: "trips", N: n, Window: f.window, KRef: presence})
			return ans.NS, err
		},
		audit: func(ctx context.Context) error {
			for _, c := range []struct {
				p *peerProc
				r string
			}{{a, aToB}, {b, bToA}} {
				ans, err := c.p.ask(ctx, peerLine{Op: "audit", Remote: c.r})
				if err != nil {
					return err
				}
				if len(ans.Problems) > 0 {
					return fmt.Errorf("%s: the auditor: %s", c.p.name, strings.Join(ans.Problems, "; "))
				}
			}
			return nil
		},
		quit: func(ctx context.Context) error { return joinErr(a.quit(ctx), b.quit(ctx)) },
	}, nil
}

// introduce makes a and b each other's remotes and gives a a presence of
// b's root. It returns the presence and the two remote ids.
func introduce(ctx context.Context, a, b *peerProc, ha, hb peerLine) (presence, aToB, bToA string, err error) {
	// Each side pins the other's key first: a frame from a peer the kernel
	// does not know is dropped.
	ka, err := a.ask(ctx, peerLine{Op: "know", Addr: hb.Addr, Peer: hb.Peer})
	if err != nil {
		return "", "", "", err
	}
	kb, err := b.ask(ctx, peerLine{Op: "know", Addr: ha.Addr, Peer: ha.Peer})
	if err != nil {
		return "", "", "", err
	}
	// b exports its root to a (an ro- ref in a's space), and a's host turns
	// that ref into a presence it holds.
	ex, err := b.ask(ctx, peerLine{Op: "export", Remote: kb.Remote})
	if err != nil {
		return "", "", "", err
	}
	im, err := a.ask(ctx, peerLine{Op: "import", Remote: ka.Remote, Ref: ex.Ref})
	if err != nil {
		return "", "", "", err
	}
	return im.KRef, ka.Remote, kb.Remote, nil
}

// joinErr is the first error of errs.
func joinErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// median of xs (nil: 0).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// status is a one-line "what now" on a terminal's stderr, rewritten in
// place; nothing when stderr is not a terminal.
type status struct {
	w     io.Writer
	on    bool
	shown bool
}

// On stderr and only on a terminal, like bench's progress line: stdout
// carries the figures, which scripts read.
func (s *status) say(text string) {
	if s.on {
		fmt.Fprintf(s.w, "\r\033[K%s", text)
		s.shown = true
	}
}

func (s *status) clear() {
	if s.shown {
		fmt.Fprint(s.w, "\r\033[K")
		s.shown = false
	}
}
