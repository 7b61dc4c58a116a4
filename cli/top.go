package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/ocapgo/kernel-actors/control"
)

// The top command: a running kernel's live numbers in a terminal, for a
// machine with no browser. It reads serve's /metrics (no token) and the
// status API (with the token) every --interval; on a terminal it redraws
// in place, and otherwise, or with --once, it prints one snapshot and
// exits, so a script or a test can read it.

// sparkWidth is how many intervals the cranks/s sparkline shows.
const sparkWidth = 30

// sparkRunes are the sparkline's levels, lowest first.
var sparkRunes = []rune("▁▂▃▄▅▆▇█")

// runTop is the top command.
func runTop(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "top", "[--interval D] [--once] [--json] [client flags]", `
Shows a running kernel's live numbers, refreshed every --interval: cranks
per second (with a sparkline of the last intervals) and cranks by kind and
outcome, the run queue's length, pending promises, vats by state, crank
and flush latency (p50 and p99, from the histograms' buckets, over the last
interval), restarts and terminations by reason, syscalls and host
requests, and a table of the vats.

It reads the daemon's /metrics (Prometheus text, no token) and its status
(with the token). On a terminal it redraws in place until Ctrl-C. With
--once, or when standard output is not a terminal, it prints one snapshot
and exits: it reads twice, --interval apart, so that the rates and
latencies are of that interval. --json prints the snapshot as JSON.`+clientNote)
	// The same client flags as every client command, so top finds a
	// daemon exactly as send and status do.
	var cf clientFlags
	cf.register(fs)
	// A second by default: a person watching sees the numbers move, and a
	// scrape a second costs the daemon a few kilobytes of text.
	interval := fs.Duration("interval", time.Second, "how often to refresh; with --once, the interval the rates are measured over")
	once := fs.Bool("once", false, "print one snapshot and exit (the default when standard output is not a terminal)")
	asJSON := fs.Bool("json", false, "print one snapshot as JSON and exit")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	// Zero would spin on the daemon; the flag package accepts it.
	if *interval <= 0 {
		return usageErr("--interval %v: must be above 0", *interval)
	}
	// A zero timeout would fail every refresh at once, saying nothing
	// useful about the daemon.
	if cf.timeout <= 0 {
		return usageErr("--timeout %v: must be above 0", cf.timeout)
	}
	// Finding the daemon (a --db one may be starting) is bounded by
	// --timeout; the refreshes then get --timeout each, since a live top
	// runs for as long as the user keeps it.
	fctx, cancel := context.WithTimeout(ctx, cf.timeout)
	c, err := cf.client(fctx, e)
	cancel()
	if err != nil {
		return err
	}
	// A client of its own for /metrics: the scrape carries no token, so
	// it does not go through control.Client, which sends one.
	s := &topSampler{name: e.name, c: c, timeout: cf.timeout, hc: &http.Client{}}
	fd, onTerminal := terminalFD(e.stdout)
	// Redrawing needs a terminal: into a pipe or a file, ANSI sequences
	// would be noise, so anything but a terminal gets one snapshot.
	if *once || *asJSON || !onTerminal {
		return s.snapshot(ctx, e, *interval, *asJSON)
	}
	return s.live(ctx, e, fd, *interval)
}

// terminalFD returns w's file descriptor if w is a terminal.
func terminalFD(w io.Writer) (int, bool) {
	// Only an *os.File can be a terminal; a pipe, a file or a test's
	// buffer gets the plain snapshot.
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}

// topSampler reads the daemon, and keeps what a rate needs: the previous
// sample and the recent rates.
type topSampler struct {
	name    string // the program's name, for the hint in errors
	c       *control.Client
	hc      *http.Client  // for /metrics, with no token
	timeout time.Duration // bounds each reading
	// prev is the last reading, which the next one's rates are against;
	// nil before the first.
	prev  *topSample
	rates []float64 // cranks/s of the last intervals, oldest first
}

// topSample is one reading of the daemon.
type topSample struct {
	at      time.Time
	status  control.Status
	metrics reading
}

// read takes one sample: /metrics, then the status, under one --timeout.
func (s *topSampler) read(ctx context.Context) (*topSample, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// /metrics first: it needs no token, so a wrong address is named as
	// such before a token could be sent to whatever answers there.
	m, err := scrapeMetrics(ctx, s.hc, strings.TrimSuffix(s.c.Base, "/")+"/metrics")
	if err != nil {
		// The hint names the two ways to point top at the right daemon,
		// since a wrong or stale address is the usual cause.
		return nil, fmt.Errorf("%w (is `%s serve` running at %s? give its --db PATH, or --addr)",
			err, s.name, strings.TrimPrefix(s.c.Base, "http://"))
	}
	st, err := s.c.Status(ctx)
	var ae *control.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		// A kernel answers (its /metrics did), but not to this token:
		// most often one from an earlier start of serve.
		return nil, fmt.Errorf("status: %w (serve writes a new token at each start: give its --db PATH, or the current --token-file)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	// Stamped after both reads: the rate's interval ends when its count
	// was read.
	return &topSample{at: time.Now(), status: st, metrics: m}, nil
}

// next reads a sample and returns the snapshot it makes with the
// previous one.
func (s *topSampler) next(ctx context.Context) (topSnapshot, error) {
	cur, err := s.read(ctx)
	if err != nil {
		return topSnapshot{}, err
	}
	snap := makeSnapshot(s.c.Base, cur, s.prev)
	// A first reading has no rate, and a zero in the sparkline would
	// read as an idle kernel.
	if s.prev != nil {
		s.rates = append(s.rates, snap.CranksPerSecond)
		if len(s.rates) > sparkWidth {
			s.rates = s.rates[len(s.rates)-sparkWidth:]
		}
	}
	s.prev = cur
	return snap, nil
}

// wait waits d, or until ctx ends (then it reports false).
func wait(ctx context.Context, d time.Duration) bool {
	// A timer, not time.After, so that a cancel releases it at once.
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// snapshot prints one snapshot, of two readings an interval apart.
func (s *topSampler) snapshot(ctx context.Context, e *env, interval time.Duration, asJSON bool) error {
	// The first reading is the interval's start: its rates are of nothing.
	if _, err := s.next(ctx); err != nil {
		return err
	}
	// A cancel between the two readings (Ctrl-C) ends the command quietly,
	// as it ends a live top: the user asked it to stop.
	if !wait(ctx, interval) {
		return nil
	}
	snap, err := s.next(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(e, snap)
	}
	// The same lines the live display draws, with no control sequences.
	lines := snap.lines(s.rates, interval)
	_, err = io.WriteString(e.stdout, strings.Join(lines, "\n")+"\n")
	return err
}

// ANSI control sequences of the live display: the alternate screen (so
// the user's scrollback is left as it was), the cursor, and in-place
// redraw.
const (
	ansiEnter = "\033[?1049h\033[?25l" // alternate screen, cursor hidden
	ansiLeave = "\033[?25h\033[?1049l" // cursor shown, normal screen back
	ansiHome  = "\033[H"               // to the top left corner
	ansiEOL   = "\033[K"               // clear to the end of the line
	ansiEOS   = "\033[J"               // clear to the end of the screen
)

// live redraws the display on the terminal fd every interval until ctx
// ends (Ctrl-C), and then gives the terminal back as it was.
func (s *topSampler) live(ctx context.Context, e *env, fd int, interval time.Duration) error {
	// The first reading must work: a wrong address or a daemon that is not
	// running is an error, not an empty screen.
	snap, err := s.next(ctx)
	if err != nil {
		return err
	}
	io.WriteString(e.stdout, ansiEnter)
	// INVARIANT: the terminal is given back however live ends, so a
	// cancel never leaves the user on a hidden cursor or the other screen.
	defer io.WriteString(e.stdout, ansiLeave)
	var failed error
	for {
		lines := snap.lines(s.rates, interval)
		if failed != nil {
			// The last good numbers stay on screen, with why they are old: a
			// daemon that restarts is found again at its address.
			lines = append(lines, "", "refresh failed (retrying): "+failed.Error())
		}
		s.draw(e.stdout, fd, lines)
		if !wait(ctx, interval) {
			return nil
		}
		// A failed reading keeps the last good snapshot on screen; the
		// sampler's previous reading stays too, so the next good one's rate
		// spans the gap rather than claiming a spike.
		next, err := s.next(ctx)
		if ctx.Err() != nil {
			return nil // cancelled mid-read: a clean stop, not a failure
		}
		if failed = err; err == nil {
			snap = next
		}
	}
}

// draw writes lines over the previous frame, cut to the terminal's size.
func (s *topSampler) draw(w io.Writer, fd int, lines []string) {
	width, height, err := term.GetSize(fd)
	if err != nil || width <= 0 || height <= 0 {
		width, height = 120, 40 // a size no terminal reports wrongly by much
	}
	// One write per frame, so the terminal never shows half of one.
	io.WriteString(w, frame(lines, width, height))
}

// frame is the text that draws lines over the previous frame on a
// terminal of width columns and height rows: from the top left corner,
// each line cut to width and the rest of its row cleared, and the rows
// below the last cleared.
func frame(lines []string, width, height int) string {
	// One row is kept free, so the last line's newline does not scroll
	// the frame; and at least a line of numbers shows, however short.
	if fit := max(height-1, 2); len(lines) > fit {
		// The vats table is last; what does not fit is counted, not lost.
		more := len(lines) - (fit - 1)
		lines = append(lines[:fit-1:fit-1], fmt.Sprintf("... %d more lines (a taller terminal shows them)", more))
	}
	var b strings.Builder
	b.WriteString(ansiHome)
	for _, l := range lines {
		// Cut by runes, not bytes: the sparkline's runes are three bytes.
		if r := []rune(l); len(r) > width {
			l = string(r[:width])
		}
		b.WriteString(l + ansiEOL + "\n")
	}
	b.WriteString(ansiEOS)
	return b.String()
}

// sparkline draws rates as one rune each, scaled to their largest.
func sparkline(rates []float64) string {
	// Scaled to the window's own largest rate: the shape of the load is
	// what a sparkline is for, and the number beside it gives the scale.
	top := 0.0
	for _, r := range rates {
		top = math.Max(top, r)
	}
	var b strings.Builder
	for _, r := range rates {
		// All zeros (an idle kernel) draw the lowest level throughout.
		i := 0
		if top > 0 {
			i = int(r / top * float64(len(sparkRunes)-1))
		}
		b.WriteRune(sparkRunes[i])
	}
	return b.String()
}
