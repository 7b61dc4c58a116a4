package actors_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/internal/proctest"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/vat"
)

// Two actors kernels in two processes (the test binary started again as
// each: protoactor-go remote's state is the process's), over mutual TLS
// and over plaintext on loopback. Kernel B runs a bank vat under group
// commit; on kernel A, the host deposits through a presence of the bank,
// and so does a vat that the host hands the presence to. Every answer is
// the running total, so each deposit ran once and in order; B's bank saw
// each once; both outboxes drain (every message acked); both auditors
// are green (the invariants build audits after every crank as well).
func TestRemoteKernelsMutualTLS(t *testing.T) {
	remoteKernels(t, "TestRemoteKernelsMutualTLS", false)
}

// TestRemoteKernelsPlaintextLoopback is the same over plaintext.
func TestRemoteKernelsPlaintextLoopback(t *testing.T) {
	remoteKernels(t, "TestRemoteKernelsPlaintextLoopback", true)
}

const remoteRoleEnv = "KERNEL_ACTORS_REMOTE_ROLE"

// remoteLine is one line of the setup conversation, and the reports.
type remoteLine struct {
	Addr     string   `json:"addr,omitempty"`
	Peer     string   `json:"peer,omitempty"`
	Ref      string   `json:"ref,omitempty"`
	URL      string   `json:"url,omitempty"`
	Log      []int64  `json:"log,omitempty"`
	Problems []string `json:"problems,omitempty"`
	Pending  int      `json:"pending"`
	Applied  uint64   `json:"applied,omitempty"`
}

// remoteChild is a kernel process of a test; remotePipe a child's end of
// the conversation (internal/proctest).
type (
	remoteChild = proctest.Child[remoteLine]
	remotePipe  = proctest.Pipe[remoteLine]
)

func startRemoteChild(t *testing.T, ctx context.Context, name, role string) *remoteChild {
	return proctest.Start[remoteLine](t, ctx, remoteRoleEnv, name, role)
}

func newRemotePipe(t *testing.T) *remotePipe { return proctest.NewPipe[remoteLine](t) }

func remoteKernels(t *testing.T, name string, insecure bool) {
	switch os.Getenv(remoteRoleEnv) {
	case "a":
		remoteKernelA(t, insecure)
		return
	case "b":
		remoteKernelB(t, insecure)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	b := startRemoteChild(t, ctx, name, "b")
	a := startRemoteChild(t, ctx, name, "a")
	a.Write(b.Read()) // B's peer id and address, to A
	b.Write(a.Read()) // A's, to B
	a.Write(b.Read()) // the bank's ref, to A
	answers := a.Read()
	b.Write(remoteLine{}) // A is done: B reports
	report := b.Read()
	a.Wait()
	b.Wait()

	require.Equal(t, []int64{1, 3, 6, 10, 15, 21, 28}, answers.Log, "A's answers: running totals, each deposit once, in order (the last through the redeemed URL)")
	require.Empty(t, answers.Problems, "A's auditor")
	require.Zero(t, answers.Pending, "A's outbox drained: B acked every message")
	require.Equal(t, []int64{1, 2, 3, 4, 5, 6, 7}, report.Log, "B's bank took each deposit once, in order")
	require.Empty(t, report.Problems, "B's auditor")
	require.Zero(t, report.Pending, "B's outbox drained: A acked every answer")
	require.Equal(t, uint64(8), report.Applied, "B applied A's eight messages once each (six deposits, the redemption, the seventh)")
}

func remoteConfig(insecure bool) *actors.RemoteConfig {
	return &actors.RemoteConfig{Host: "127.0.0.1", InsecureLoopback: insecure, ResendEvery: 50 * time.Millisecond}
}

// auditAndDrain waits (a real network: polling, with a deadline) until
// every message of the kernel's one remote is acked, and audits it.
func auditAndDrain(ctx context.Context, t *testing.T, k *actors.Kernel) (l remoteLine) {
	t.Helper()
	for {
		infos, err := k.Remotes(ctx)
		require.NoError(t, err)
		require.Len(t, infos, 1)
		l.Pending, l.Applied = infos[0].Pending, infos[0].Applied
		if l.Pending == 0 || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, k.ReadStore(ctx, func(st *persistence.Store) error {
		var err error
		l.Problems, err = kernel.Audit(ctx, st)
		return err
	}))
	return l
}

// remoteKernelA is the client: the host deposits through the presence,
// directly and through a vat of its own.
func remoteKernelA(t *testing.T, insecure bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pipe := newRemotePipe(t)
	reg := vat.NewRegistry()
	reg.MustRegister("client", func(vc *vat.Context) (any, error) {
		return vat.Far("client", vat.Methods{
			"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
			"pay": func(c *vat.Call) (any, error) {
				return vat.E(c.Arg(0)).Send("deposit", c.Arg(1)).Await()
			},
		}), nil
	})
	k := startNode(t, actors.Config{Registry: reg, Remote: remoteConfig(insecure)})
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	b := pipe.Read()
	toB, err := k.AddRemote(ctx, b.Peer, b.Addr)
	require.NoError(t, err)
	pipe.Write(remoteLine{Addr: me.Address, Peer: me.ID})
	intro := pipe.Read()
	bank, err := k.ImportFromRemote(ctx, toB, intro.Ref)
	require.NoError(t, err)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "client",
		Vats: map[string]kernel.VatConfig{"client": {Bundle: "client"}}})
	require.NoError(t, err)

	var report remoteLine
	for i := int64(1); i <= 6; i++ {
		var v any
		if i%2 == 1 {
			v, err = k.QueueMessage(ctx, bank, "deposit", i) // the host, to the presence
		} else {
			v, err = k.QueueMessage(ctx, res.RootKref, "pay", bank, i) // a vat, to the presence
		}
		require.NoError(t, err, "deposit %d", i)
		report.Log = append(report.Log, v.(int64))
	}
	// The same bank, introduced by an OCAP URL B issued.
	byURL, err := k.RedeemURL(ctx, intro.URL)
	require.NoError(t, err)
	v, err := k.QueueMessage(ctx, byURL, "deposit", int64(7))
	require.NoError(t, err)
	report.Log = append(report.Log, v.(int64))
	l := auditAndDrain(ctx, t, k)
	report.Problems, report.Pending = l.Problems, l.Pending
	pipe.Write(report)
}

// remoteKernelB is the bank, on a file under group commit.
func remoteKernelB(t *testing.T, insecure bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pipe := newRemotePipe(t)
	var deposits []int64 // the bank's log, read by the host at the end (one process)
	reg := loggingBank(&deposits)
	k := startNode(t, actors.Config{Registry: reg, DBPath: filepath.Join(t.TempDir(), "b.db"),
		CommitPolicy: persistence.Group, Remote: remoteConfig(insecure)})
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	pipe.Write(remoteLine{Addr: me.Address, Peer: me.ID})
	a := pipe.Read()
	toA, err := k.AddRemote(ctx, a.Peer, a.Addr)
	require.NoError(t, err)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "bank",
		Vats: map[string]kernel.VatConfig{"bank": {Bundle: "bank"}}})
	require.NoError(t, err)
	ref, err := k.ExportToRemote(ctx, toA, res.RootKref)
	require.NoError(t, err)
	url, err := k.IssueURL(ctx, res.RootKref)
	require.NoError(t, err)
	pipe.Write(remoteLine{Ref: ref, URL: url})
	pipe.Read() // A is done
	report := auditAndDrain(ctx, t, k)
	require.NoError(t, k.WaitIdle(ctx))
	report.Log = deposits
	pipe.Write(report)
}

// loggingBank is a registry with one bundle, "bank": a vat whose deposit(n)
// adds n to its total, answers the total, and appends n to *deposits, the
// log a two-process test's host reads at the end (the vat runs in the
// host's process).
func loggingBank(deposits *[]int64) *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("bank", func(vc *vat.Context) (any, error) {
		total := int64(0)
		return vat.Far("bank", vat.Methods{
			"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
			"deposit": func(c *vat.Call) (any, error) {
				n := c.Arg(0).(int64)
				total += n
				*deposits = append(*deposits, n)
				return total, nil
			},
		}), nil
	})
	return reg
}
