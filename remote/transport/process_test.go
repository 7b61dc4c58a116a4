package transport

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/internal/proctest"
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
	// Writers are A's endpoint writers before and after its Stop.
	Writers [2]int `json:"writers,omitempty"`
}

// child is one kernel process; lineIO a child's end of the setup pipe
// (internal/proctest).
type (
	child  = proctest.Child[setup]
	lineIO = proctest.Pipe[setup]
)

func startChild(t *testing.T, ctx context.Context, name, role string) *child {
	return proctest.Start[setup](t, ctx, roleEnv, name, role)
}

func childIO(t *testing.T) *lineIO { return proctest.NewPipe[setup](t) }

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
	a.Write(b.Read()) // B's address and peer id, to A
	b.Write(a.Read()) // A's, to B
	a.Write(b.Read()) // the bank's ref, to A
	answers := a.Read()
	b.Write(setup{}) // A is done: B reports
	report := b.Read()
	a.Wait()
	b.Wait()

	want := []int64{1, 3, 6, 10, 15}
	require.Equal(t, want, answers.Log, "A's answers: the running totals, each deposit once and in order")
	require.Empty(t, answers.Problems, "A's auditor")
	require.Equal(t, []int64{1, 2, 3, 4, 5}, report.Log, "B's bank took each deposit once, in order")
	require.Empty(t, report.Problems, "B's auditor")
	require.Equal(t, uint64(5), report.Applied, "B applied A's five messages once each")
	require.Positive(t, answers.Writers[0], "A dialled B: it had endpoint writers")
	require.Zero(t, answers.Writers[1], "no endpoint writer of A outlived its Stop")
}

// meetBank is kernel A's side of the introduction, over the test's pipe:
// it reads B's address and key, adds B as a remote, tells B its own, and
// imports the bank B exports. It returns B's setup, the remote id and the
// bank's presence.
func meetBank(ctx context.Context, t *testing.T, pipe *lineIO, a *peerKernel) (b setup, aToB kernel.RemoteID, presence kernel.KRef) {
	t.Helper()
	b = pipe.Read()
	var err error
	require.NoError(t, a.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
		var out []kernel.Output
		aToB, out, err = k.AddRemote(ctx, b.Peer, b.Addr)
		return out, err
	}))
	pipe.Write(setup{Addr: a.node.Addr(), Peer: string(a.id.ID())})
	ref := pipe.Read().Ref
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

// reportDeposits waits for every deposit's answer, stops A, and writes
// the answers, A's audit and its endpoint writers before and after the
// Stop (none may outlive it: a connection that closed after Stop logged
// through gRPC's process-wide logger while the process's next remote
// set it) to the parent.
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
	report.Writers[0] = endpointWriters(a.node)
	require.NoError(t, a.node.Stop(ctx))
	report.Writers[1] = endpointWriters(a.node)
	pipe.Write(report)
}

// endpointWriters counts the children of protoactor-go's endpoint
// supervisor in n's actor system: a writer and a watcher per peer
// address dialled.
func endpointWriters(n *Node) int {
	count := 0
	for _, bucket := range n.sys.ProcessRegistry.LocalPIDs.LocalPIDs {
		for _, id := range bucket.Keys() {
			if strings.HasPrefix(id, endpointSupervisor+"/") {
				count++
			}
		}
	}
	return count
}

// kernelB is a bank, introduced to A.
func kernelB(t *testing.T, insecure bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pipe := childIO(t)
	b := newPeer(t, insecure)
	pipe.Write(setup{Addr: b.node.Addr(), Peer: string(b.id.ID())})
	a := pipe.Read()
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
	pipe.Write(setup{Ref: ref})
	pipe.Read() // A is done
	var report setup
	require.NoError(t, b.node.Do(ctx, func(k *kernel.Kernel) error {
		report.Problems, err = kernel.Audit(ctx, k.Store())
		info, _ := k.Remote(bToA)
		report.Applied = info.Applied
		return err
	}))
	report.Log = *b.log
	pipe.Write(report)
	require.NoError(t, b.node.Stop(ctx))
}
