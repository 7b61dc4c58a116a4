package transport

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// Two kernel processes on loopback. The test process starts itself twice
// more, as kernel A and as kernel B (the role comes from the
// environment): one node per process, as in production. (protoactor-go
// remote keeps process-wide state, its gRPC logger, that two nodes in one
// process would share; the race detector sees it.) The parent relays the
// setup between the two over their stdin and stdout (who is where, and
// the bank's ref); everything after that goes over the link.
//
// A host on A deposits into B's bank through a presence; the answers come
// back over the link; each deposit ran once and in order (A's answers are
// the running totals, B's bank logged each deposit once), and both
// auditors are green.
func TestTwoProcessesMutualTLS(t *testing.T) { twoProcesses(t, "TestTwoProcessesMutualTLS", false) }

// TestTwoProcessesPlaintextLoopback is the same over plaintext, which a
// loopback address may ask for.
func TestTwoProcessesPlaintextLoopback(t *testing.T) {
	twoProcesses(t, "TestTwoProcessesPlaintextLoopback", true)
}

const roleEnv = "KERNEL_ACTORS_TRANSPORT_ROLE"

// setup is one line of the setup conversation, and the final reports.
type setup struct {
	Addr     string   `json:"addr,omitempty"`
	Peer     string   `json:"peer,omitempty"`
	Ref      string   `json:"ref,omitempty"`
	Log      []int64  `json:"log,omitempty"`
	Problems []string `json:"problems,omitempty"`
	Applied  uint64   `json:"applied,omitempty"`
}

// child is one kernel process and its setup pipe.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  *bufio.Scanner
	role   string
	waited bool
}

func startChild(t *testing.T, ctx context.Context, name, role string) *child {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+name+"$", "-test.v")
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	c := &child{t: t, cmd: cmd, in: in, lines: bufio.NewScanner(out), role: role}
	t.Cleanup(func() {
		if !c.waited {
			// The test failed before the end: do not leave it running.
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return c
}

// wait waits for the child to finish its test and exit, and checks that
// it passed.
func (c *child) wait() {
	c.t.Helper()
	c.in.Close()
	for c.lines.Scan() {
		c.t.Logf("kernel %s: %s", c.role, c.lines.Text())
	}
	c.waited = true
	require.NoError(c.t, c.cmd.Wait(), "kernel %s's own test", c.role)
}

// read returns the child's next setup line, skipping its test output.
func (c *child) read() setup {
	c.t.Helper()
	for c.lines.Scan() {
		var s setup
		if json.Unmarshal(c.lines.Bytes(), &s) == nil {
			return s
		}
		c.t.Logf("kernel %s: %s", c.role, c.lines.Text())
	}
	c.t.Fatalf("child ended before its line: %v", c.lines.Err())
	return setup{}
}

func (c *child) write(s setup) {
	b, _ := json.Marshal(s)
	fmt.Fprintf(c.in, "%s\n", b)
}

func twoProcesses(t *testing.T, name string, insecure bool) {
	switch os.Getenv(roleEnv) {
	case "a":
		kernelA(t, insecure)
		return
	case "b":
		kernelB(t, insecure)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := startChild(t, ctx, name, "b")
	a := startChild(t, ctx, name, "a")
	a.write(b.read()) // B's address and peer id, to A
	b.write(a.read()) // A's, to B
	a.write(b.read()) // the bank's ref, to A
	answers := a.read()
	b.write(setup{}) // A is done: B reports
	report := b.read()
	a.wait()
	b.wait()

	want := []int64{1, 3, 6, 10, 15}
	require.Equal(t, want, answers.Log, "A's answers: the running totals, each deposit once and in order")
	require.Empty(t, answers.Problems, "A's auditor")
	require.Equal(t, []int64{1, 2, 3, 4, 5}, report.Log, "B's bank took each deposit once, in order")
	require.Empty(t, report.Problems, "B's auditor")
	require.Equal(t, uint64(5), report.Applied, "B applied A's five messages once each")
}

// lineIO is a child's end of the setup pipe.
type lineIO struct {
	t   *testing.T
	in  *bufio.Scanner
	out *json.Encoder
}

func childIO(t *testing.T) *lineIO {
	return &lineIO{t: t, in: bufio.NewScanner(os.Stdin), out: json.NewEncoder(os.Stdout)}
}

func (l *lineIO) read() setup {
	l.t.Helper()
	require.True(l.t, l.in.Scan(), "the parent closed the pipe")
	var s setup
	require.NoError(l.t, json.Unmarshal(l.in.Bytes(), &s))
	return s
}

func (l *lineIO) write(s setup) { require.NoError(l.t, l.out.Encode(s)) }

// meetBank is kernel A's side of the introduction, over the test's pipe:
// it reads B's address and key, adds B as a remote, tells B its own, and
// imports the bank B exports. It returns B's setup, the remote id and the
// bank's presence.
func meetBank(ctx context.Context, t *testing.T, pipe *lineIO, a *peerKernel) (b setup, aToB kernel.RemoteID, presence kernel.KRef) {
	t.Helper()
	b = pipe.read()
	var err error
	require.NoError(t, a.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
		var out []kernel.Output
		aToB, out, err = k.AddRemote(ctx, b.Peer, b.Addr)
		return out, err
	}))
	pipe.write(setup{Addr: a.node.Addr(), Peer: string(a.id.ID())})
	ref := pipe.read().Ref
	require.NoError(t, a.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
		var out []kernel.Output
		presence, out, err = k.ImportFromRemote(ctx, aToB, ref)
		return out, err
	}))
	return b, aToB, presence
}

// kernelA deposits into B's bank.
func kernelA(t *testing.T, insecure bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pipe := childIO(t)
	a := newPeer(t, insecure)
	_, _, presence := meetBank(ctx, t, pipe, a)
	var kps []kernel.KRef
	for i := int64(1); i <= 5; i++ {
		kps = append(kps, deposit(t, a, presence, i))
	}
	reportDeposits(ctx, t, pipe, a, kps)
}

// reportDeposits waits for every deposit's answer, then writes them and
// A's audit to the parent, and stops A.
func reportDeposits(ctx context.Context, t *testing.T, pipe *lineIO, a *peerKernel, kps []kernel.KRef) {
	t.Helper()
	var report setup
	for i, kp := range kps {
		o, err := a.node.Wait(ctx, kp)
		require.NoError(t, err, "deposit %d", i+1)
		require.NoError(t, o.Err())
		v, err := marshal.Decode(o.Value)
		require.NoError(t, err)
		report.Log = append(report.Log, v.(int64))
	}
	require.NoError(t, a.node.Do(ctx, func(k *kernel.Kernel) error {
		var err error
		report.Problems, err = kernel.Audit(ctx, k.Store())
		return err
	}))
	pipe.write(report)
	require.NoError(t, a.node.Stop(ctx))
}

// kernelB is a bank, introduced to A.
func kernelB(t *testing.T, insecure bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pipe := childIO(t)
	b := newPeer(t, insecure)
	pipe.write(setup{Addr: b.node.Addr(), Peer: string(b.id.ID())})
	a := pipe.read()
	var bToA kernel.RemoteID
	var err error
	require.NoError(t, b.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
		var o []kernel.Output
		bToA, o, err = k.AddRemote(ctx, a.Peer, a.Addr)
		return o, err
	}))
	root := launchBank(t, b)
	var ref string
	require.NoError(t, b.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
		var o []kernel.Output
		ref, o, err = k.ExportToRemote(ctx, bToA, root)
		return o, err
	}))
	pipe.write(setup{Ref: ref})
	pipe.read() // A is done
	var report setup
	require.NoError(t, b.node.Do(ctx, func(k *kernel.Kernel) error {
		report.Problems, err = kernel.Audit(ctx, k.Store())
		info, _ := k.Remote(bToA)
		report.Applied = info.Applied
		return err
	}))
	report.Log = *b.log
	pipe.write(report)
	require.NoError(t, b.node.Stop(ctx))
}
