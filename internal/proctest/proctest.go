package proctest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// Child is one child process of a test, seen from the parent: its pipes
// carry lines of type T.
type Child[T any] struct {
	t      testing.TB
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  *bufio.Scanner
	role   string
	waited bool
}

// Start runs the test binary again as role: it runs only the test named
// test (which must be the caller's, so the child takes the branch env
// names), with env=role in its environment. A child the test has not
// waited for is killed at the test's cleanup, so a failure leaves none
// running.
func Start[T any](t testing.TB, ctx context.Context, env, test, role string) *Child[T] {
	t.Helper()
	return start[T](t, ctx, env, role, "-test.run=^"+test+"$", "-test.v")
}

// StartBenchmark is Start for a benchmark's child: it runs only the
// benchmark named bench, once (its b.N is 1), and no test.
func StartBenchmark[T any](t testing.TB, ctx context.Context, env, bench, role string) *Child[T] {
	t.Helper()
	return start[T](t, ctx, env, role, "-test.run=^$", "-test.bench=^"+bench+"$", "-test.benchtime=1x", "-test.v")
}

// start runs the test binary again with args, as role.
func start[T any](t testing.TB, ctx context.Context, env, role string, args ...string) *Child[T] {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), env+"="+role)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	c := &Child[T]{t: t, cmd: cmd, in: in, lines: bufio.NewScanner(out), role: role}
	// Lines with an audit's problems can exceed the scanner's default.
	c.lines.Buffer(make([]byte, 64<<10), 1<<20)
	t.Cleanup(func() {
		if !c.waited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return c
}

// Read returns the child's next line, logging the child's test output
// that comes before it. A child that ends first fails the test.
func (c *Child[T]) Read() T {
	c.t.Helper()
	for c.lines.Scan() {
		var l T
		if json.Unmarshal(c.lines.Bytes(), &l) == nil {
			return l
		}
		c.t.Logf("kernel %s: %s", c.role, c.lines.Text())
	}
	c.t.Fatalf("kernel %s ended before its line: %v", c.role, c.lines.Err())
	var zero T
	return zero
}

// Write sends the child a line.
func (c *Child[T]) Write(l T) {
	b, _ := json.Marshal(l)
	fmt.Fprintf(c.in, "%s\n", b)
}

// Wait closes the child's stdin, logs the rest of its output, waits for
// it to exit and checks that its own test passed.
func (c *Child[T]) Wait() {
	c.t.Helper()
	c.in.Close()
	for c.lines.Scan() {
		c.t.Logf("kernel %s: %s", c.role, c.lines.Text())
	}
	c.waited = true
	require.NoError(c.t, c.cmd.Wait(), "kernel %s's own test", c.role)
}

// Kill kills the child with SIGKILL (no flush, no goodbye) and reaps it.
func (c *Child[T]) Kill() {
	c.t.Helper()
	require.NoError(c.t, c.cmd.Process.Kill())
	c.cmd.Wait()
	c.waited = true
}

// Pipe is a child's end of the conversation: the parent's lines on
// stdin, its own on stdout.
type Pipe[T any] struct {
	t   testing.TB
	in  *bufio.Scanner
	out *json.Encoder
}

// NewPipe is the child's pipe.
func NewPipe[T any](t testing.TB) *Pipe[T] {
	return &Pipe[T]{t: t, in: bufio.NewScanner(os.Stdin), out: json.NewEncoder(os.Stdout)}
}

// Read returns the parent's next line; the parent closing the pipe fails
// the test.
func (p *Pipe[T]) Read() T {
	p.t.Helper()
	require.True(p.t, p.in.Scan(), "the parent closed the pipe")
	var l T
	require.NoError(p.t, json.Unmarshal(p.in.Bytes(), &l))
	return l
}

// Write sends the parent a line.
func (p *Pipe[T]) Write(l T) { require.NoError(p.t, p.out.Encode(l)) }
