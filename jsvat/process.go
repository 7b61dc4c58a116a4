package jsvat

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// process is one worker: a node process with the vat protocol on its fds 3
// and 4. The kernel side owns it from start to reap; nothing of it
// survives kill, which is the only way it ends (even a worker that exited
// by itself is killed, to reap it and release its pipes).
type process struct {
	rt  *Runtime
	cmd *exec.Cmd
	pid int

	in  *os.File // our end of the worker's fd 3: frames to the worker
	out *os.File // our end of the worker's fd 4: frames from the worker
	// fr reads frames from out. Only the vat's goroutine uses in, out and
	// fr, and only during a call (io.go): no goroutine of the kernel's
	// stands between a worker and its vat, so a delivery costs no
	// goroutine hand-offs beyond the kernel's own.
	fr *frameReader

	// stop is closed by kill: a call in progress gives up.
	stop chan struct{}
	// exited is closed once the process is reaped; exitErr (set before)
	// is what cmd.Wait said.
	exited  chan struct{}
	exitErr error

	logger atomic.Pointer[zerolog.Logger] // the vat's, once assigned; the runtime's before
	tail   stderrTail

	goroutines sync.WaitGroup // the stderr reader
	killOnce   sync.Once
}

// stderrTail keeps the last lines a worker wrote to stderr, for the error
// that reports its death.
type stderrTail struct {
	mu    sync.Mutex
	lines []string
}

const (
	tailLines   = 8
	maxLogLine  = 4 << 10
	frameBuffer = 64 << 10
)

func (t *stderrTail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == tailLines {
		copy(t.lines, t.lines[1:])
		t.lines = t.lines[:tailLines-1]
	}
	t.lines = append(t.lines, s)
}

func (t *stderrTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, " | ")
}

// spawn starts a worker for vat (empty for a warm one, whose vat comes
// with initVat).
func (r *Runtime) spawn(vat string, log zerolog.Logger) (*process, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("jsvat: pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW)
		return nil, fmt.Errorf("jsvat: pipe: %w", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		closeAll(inR, inW, outR, outW)
		return nil, fmt.Errorf("jsvat: pipe: %w", err)
	}
	prog, args := r.workerCommand(vat)
	cmd := exec.Command(prog, args...)
	cmd.Dir = r.opts.WorkerDir
	// INVARIANT: no NODE_OPTIONS reaches the worker (workerEnv): nothing runs
	// in it before its own lockdown.
	cmd.Env = workerEnv()
	// fd 3 and fd 4: the protocol. stdout and stderr only reach the log.
	cmd.ExtraFiles = []*os.File{inR, outW}
	cmd.Stdout, cmd.Stderr = errW, errW
	cmd.SysProcAttr = sysProcAttr()

	p := &process{
		rt: r, cmd: cmd, in: inW, out: outR,
		stop: make(chan struct{}), exited: make(chan struct{}),
	}
	p.fr = newFrameReader(outR, r.opts.MaxFrame)
	p.logger.Store(&log)

	// The process is started, waited for and reaped on one goroutine
	// locked to its OS thread: the kernel asks Linux to kill the worker
	// when the thread that started it ends (Pdeathsig, in sysProcAttr),
	// so a kernel process that dies takes its workers with it, spinning
	// ones too, and the thread must live as long as the worker.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread ends with this goroutine, after the
		// worker is reaped, so its death signal has no one left to hit.
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.exitErr = cmd.Wait()
		close(p.exited)
	}()
	err = <-started
	// The worker's ends are the worker's now; keeping ours open would hide
	// its death (no EOF while we hold a write end).
	closeAll(inR, outW, errW)
	if err != nil {
		closeAll(inW, outR, errR)
		return nil, fmt.Errorf("%w: starting %s: %v", ErrNoNode, prog, err)
	}
	p.pid = cmd.Process.Pid
	r.mu.Lock()
	// Registered only once started, and before anyone else can see p: Close
	// kills whatever is in live, so no started worker escapes it.
	r.mu.live[p] = struct{}{}
	r.mu.Unlock()
	p.goroutines.Add(1)
	// stderr is drained on its own goroutine, always: a worker whose stderr
	// pipe filled would block in a write, and look hung to the kernel.
	go p.stderrLoop(errR)
	p.log().Debug().Int("pid", p.pid).Msg("JavaScript vat worker started")
	return p, nil
}

// workerEnv is the kernel's environment less NODE_OPTIONS, which could
// load code into the worker before SES locks it down.
func workerEnv() []string {
	env := os.Environ()
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "NODE_OPTIONS=") {
			out = append(out, kv)
		}
	}
	return out
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		_ = f.Close()
	}
}

// log is atomic because stderrLoop logs concurrently with assign, which
// moves a warm worker's log to its vat's.
func (p *process) log() *zerolog.Logger { return p.logger.Load() }

// assign makes p a vat's worker: its stderr goes to the vat's log.
func (p *process) assign(log zerolog.Logger) {
	l := log.With().Int("pid", p.pid).Logger()
	p.logger.Store(&l)
}

// logEntry writes a vat's log notification to the vat's log.
func (p *process) logEntry(e *logEntry) {
	l := p.log()
	var ev *zerolog.Event
	switch e.Level {
	case "debug":
		ev = l.Debug()
	case "warn":
		ev = l.Warn()
	case "error":
		ev = l.Error()
	default: // info, log
		ev = l.Info()
	}
	ev.Str("source", "vat").Strs("tags", e.Tags).Msg(e.Message)
}

// stderrLoop copies the worker's stderr (and stdout) to the log, line by
// line, until the pipe ends (the worker's death, or kill).
func (p *process) stderrLoop(f *os.File) {
	defer p.goroutines.Done()
	defer f.Close()
	br := bufio.NewReaderSize(f, maxLogLine)
	for {
		// ReadSlice, not ReadString: a line longer than maxLogLine comes back in
		// pieces (ErrBufferFull), so a worker writing one endless line cannot
		// make the kernel buffer it whole. Each piece is logged on its own.
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			s := strings.TrimRight(string(line), "\r\n")
			// The tail is bounded (tailLines), for the same reason.
			p.tail.add(s)
			p.log().Warn().Str("source", "worker stderr").Msg(s)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// kill ends the worker at once (SIGKILL to its process group), reaps it
// and releases its pipes and goroutines, waiting at most KillWait for the
// reap. why goes to the log. It is safe to call more than once and from
// any goroutine; only the first call acts.
//
// INVARIANT: kill is the only end of a worker, and it always reaps: the
// signal, the close of our pipe ends and the wait for cmd.Wait all happen
// here. It must not be called with the runtime's mu held (it takes it).
func (p *process) kill(why string) {
	p.killOnce.Do(func() {
		select {
		case <-p.exited:
			// Reaped already: its pid may belong to someone else now.
		default:
			// The group first (anything the worker started), then the
			// process itself (on systems without process groups, the only
			// one).
			killGroup(p.pid)
			_ = p.cmd.Process.Kill()
		}
		// stop is closed after the signal and before the pipes, so a call woken
		// by the close below finds stop closed and reports the kernel's decision
		// (ErrAborted), not a worker's death (see gone).
		close(p.stop)
		// Closing our ends ends a read or write in progress on them.
		closeAll(p.in, p.out)
		deadline := time.Now().Add(p.rt.opts.KillWait)
		// Bounded: a process stuck in the OS (uninterruptible sleep) may never be
		// reaped, and the kernel's Stop must not hang on it. The reaping
		// goroutine stays behind and reaps it if it ever ends.
		if !waitUntil(p.exited, deadline) {
			p.log().Error().Int("pid", p.pid).Dur("waited", p.rt.opts.KillWait).Msg("killed JavaScript vat worker was not reaped in time; leaving it")
		}
		done := make(chan struct{})
		go func() { p.goroutines.Wait(); close(done) }()
		// The stderr reader ends with the pipe, which the worker's death closes;
		// the same deadline bounds the wait for it.
		waitUntil(done, deadline)
		p.rt.mu.Lock()
		// Out of live only now, once reaped (or given up on), so PIDs and Close
		// see the worker for as long as it may still run.
		delete(p.rt.mu.live, p)
		p.rt.mu.Unlock()
		p.log().Debug().Int("pid", p.pid).Str("why", why).Msg("JavaScript vat worker stopped")
	})
}

// waitUntil waits for ch to close, until deadline; it reports whether it
// closed.
func waitUntil(ch <-chan struct{}, deadline time.Time) bool {
	select {
	case <-ch:
		return true
	default:
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-ch:
		return true
	case <-timer.C:
		return false
	}
}

// deathError describes the end of the worker's pipe: its exit status, if
// it has been reaped within a moment, and the last lines of its stderr.
func (p *process) deathError(cause error) error {
	// The pipe's end is usually seen a moment before cmd.Wait returns; a
	// short wait gets the exit status (a signal, an exit code) into the error,
	// which is what an operator needs to tell a crash from an OOM kill.
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	status := "still running"
	select {
	case <-p.exited:
		status = "ended"
		if p.exitErr != nil {
			status = p.exitErr.Error()
		} else {
			status = "exit status 0"
		}
	case <-timer.C:
	}
	msg := fmt.Sprintf("pid %d: %s", p.pid, status)
	if t := p.tail.String(); t != "" {
		msg += "; its stderr: " + t
	}
	return fmt.Errorf("%w (%v; %s)", ErrWorkerExited, cause, msg)
}

// workerCommand is the program and arguments of a worker for vat (""
// for a warm one): Node on the worker's entry with the kernel's options,
// or Options.Command with the same protocol arguments.
func (r *Runtime) workerCommand(vat string) (string, []string) {
	// --expose-gc lets the worker force a collection (liveslots'
	// bringOutYourDead relies on one to find what the vat dropped).
	prog, args := r.opts.Node, []string{"--expose-gc", r.entry}
	if r.opts.TierUpBudget > 0 {
		args = append(args, "--tier-up-budget", strconv.Itoa(r.opts.TierUpBudget))
	}
	if len(r.opts.Command) > 0 {
		// A worker of another language knows nothing of V8's budget.
		prog, args = r.opts.Command[0], append([]string(nil), r.opts.Command[1:]...)
	}
	// The worker is told the frame limit so that it enforces it on what it
	// writes too: both ends agree on one limit, and neither buffers more.
	args = append(args, "--max-frame", strconv.Itoa(r.opts.MaxFrame), "--bundle-cache", r.cache)
	if vat != "" {
		args = append(args, "--vat", vat)
	}
	return prog, args
}
