package chaos

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/ocapgo/kernel-actors/persistence"
)

// The conductor's side of a kernel process: starting one (the test
// binary again, with a part in its environment, inside the network the
// test chose), reading its events, writing its commands, killing it.

// network is where the kernels run: loopback, or a namespace each.
type network interface {
	// host is the address kernel name listens on.
	host(name string) string
	// command wraps the kernel process's command line (netns: inside
	// the kernel's namespace).
	command(ctx context.Context, name string, argv []string) *exec.Cmd
	// cut and heal partition kernel name from the others and join it
	// again; a network that cannot (loopback) returns an error.
	cut(name string) error
	heal(name string) error
}

// loopback runs every kernel on 127.0.0.1, over mutual TLS as anywhere
// else (plaintext is never asked for here).
type loopback struct{}

func (loopback) host(string) string { return "127.0.0.1" }
func (loopback) command(ctx context.Context, _ string, argv []string) *exec.Cmd {
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}
func (loopback) cut(string) error  { return fmt.Errorf("chaos: loopback cannot be partitioned") }
func (loopback) heal(string) error { return fmt.Errorf("chaos: loopback cannot be partitioned") }

// procEvent is one line (or the end) of a kernel process's stdout, tagged
// with its incarnation so that the conductor can tell a dead one's last
// words from the living one's answers.
type procEvent struct {
	name  string
	inc   int
	m     msg
	other []string // lines before it that were not ours
	eof   bool
	err   error // why the stream ended, if not at EOF
}

// proc is one incarnation of a kernel process.
type proc struct {
	name     string
	inc      int
	port     int // the port it was asked for (0: any)
	cmd      *exec.Cmd
	in       io.WriteCloser
	done     chan struct{} // its stdout has ended
	expected bool          // the conductor killed it or closed its stdin: its end is no failure
	ended    bool          // its end was seen
}

// dbPath is kernel name's database in dir (its key file is beside it).
func dbPath(dir, name string) string { return filepath.Join(dir, name+".db") }

// startProc starts incarnation inc of kernel name, asking for port (and
// group commit if group), and forwards its stdout to events until quit
// closes.
func startProc(ctx context.Context, net network, test, dir, name string, inc, port int, group bool,
	events chan<- procEvent, quit <-chan struct{}) (*proc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("chaos: the test binary: %w", err)
	}
	// The same test function, which sees its part in the environment
	// and runs as a kernel (asKernel). Without -test.v the framework
	// prints little besides "PASS", which the reader skips.
	cmd := net.command(ctx, name, []string{exe, "-test.run=^" + test + "$"})
	commit := string(persistence.Durable)
	if group {
		commit = string(persistence.Group)
	}
	cmd.Env = append(os.Environ(), roleEnv+"="+name, dbEnv+"="+dbPath(dir, name),
		hostEnv+"="+net.host(name), portEnv+"="+strconv.Itoa(port), commitEnv+"="+commit)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("chaos: %s: %w", name, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("chaos: %s: %w", name, err)
	}
	// The kernel's stdout is its events; its stderr (a panic's stack,
	// the race detector's report) goes to the test's, where it is seen
	// as it happens.
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("chaos: start %s: %w", name, err)
	}
	p := &proc{name: name, inc: inc, port: port, cmd: cmd, in: in, done: make(chan struct{})}
	// One reader per process, so that a client's stream of
	// acknowledgements never waits for the conductor to ask: a full pipe
	// would stall the kernel's host, and the run would measure the
	// conductor. quit lets a reader go when the test is over and nobody
	// reads events any more.
	go func() {
		defer close(p.done)
		r := newLineReader(out)
		for {
			m, other, err := r.next()
			e := procEvent{name: name, inc: inc, m: m, other: other}
			if err != nil {
				e.eof = true
				if err != io.EOF {
					e.err = err
				}
			}
			select {
			case events <- e:
			case <-quit:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return p, nil
}

// send writes one command.
func (p *proc) send(m msg) error {
	b, err := marshalLine(m)
	if err != nil {
		return err
	}
	if _, err := p.in.Write(b); err != nil {
		return fmt.Errorf("chaos: write to %s: %w", p.name, err)
	}
	return nil
}

// kill sends SIGKILL: no flush, no goodbye.
func (p *proc) kill() error {
	p.expected = true
	if err := p.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("chaos: kill %s: %w", p.name, err)
	}
	return nil
}

// reap waits for the process once its stdout has ended (os/exec's rule:
// Wait closes the pipes, so it comes after the last read).
func (p *proc) reap() error {
	<-p.done
	return p.cmd.Wait()
}
