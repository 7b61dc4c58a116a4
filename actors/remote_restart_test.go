package actors_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/vat"
)

// A peer killed with SIGKILL and started again elsewhere. B's bank (on a
// file, group commit, its total and log in baggage) takes three deposits
// from A's host; the parent kills B's process; A's host sends three more,
// which wait in A's outbox; B starts again on the same file and key, on a
// new port; A's host moves the remote to the new address (AddRemote), and
// the deposits go through, each once and in order: A's answers are the
// running totals, B's durable log holds each deposit once, and both
// auditors are green.
func TestRemoteKernelKill9AndMove(t *testing.T) {
	const name = "TestRemoteKernelKill9AndMove"
	switch os.Getenv(remoteRoleEnv) {
	case "a":
		restartKernelA(t)
		return
	case "b":
		restartKernelB(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	dir := t.TempDir()
	t.Setenv(bankDirEnv, dir) // the children inherit it
	b := startRemoteChild(t, ctx, name, "b")
	a := startRemoteChild(t, ctx, name, "a")
	a.Write(b.Read()) // B's peer id and address
	b.Write(a.Read()) // A's
	a.Write(b.Read()) // the bank's ref
	half := a.Read()
	require.Equal(t, []int64{1, 3, 6}, half.Log)
	// kill -9: whatever B had not flushed is gone; the protocol must not
	// care.
	b.Kill()
	a.Write(remoteLine{}) // A sends the second half into the void
	b2 := startRemoteChild(t, ctx, name, "b")
	moved := b2.Read()
	a.Write(moved) // B's new address
	answers := a.Read()
	b2.Write(remoteLine{})
	report := b2.Read()
	a.Wait()
	b2.Wait()
	require.Equal(t, []int64{1, 3, 6, 10, 15, 21}, answers.Log, "A's answers: running totals, each deposit once, in order")
	require.Empty(t, answers.Problems, "A's auditor")
	require.Zero(t, answers.Pending, "A's outbox drained")
	require.Equal(t, []int64{1, 2, 3, 4, 5, 6}, report.Log, "B's durable log: each deposit once, in order")
	require.Empty(t, report.Problems, "B's auditor")
	require.Zero(t, report.Pending, "B's outbox drained")
}

// bankDirEnv names the directory of B's database, the same for both of
// its processes.
const bankDirEnv = "KERNEL_ACTORS_REMOTE_BANK_DIR"

// durableBank keeps its total and its log in baggage: they outlive B's
// process.
func durableBank() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("bank", func(vc *vat.Context) (any, error) {
		get := func() (int64, []any) {
			t, _ := vc.Baggage.Get("total")
			n, _ := marshal.Int(t)
			l, _ := vc.Baggage.Get("log")
			log, _ := l.([]any)
			return n, log
		}
		return vat.Far("bank", vat.Methods{
			"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
			"deposit": func(c *vat.Call) (any, error) {
				n, log := get()
				d, _ := marshal.Int(c.Arg(0))
				n += d
				if err := vc.Baggage.Set("log", append(log, d)); err != nil {
					return nil, err
				}
				return n, vc.Baggage.Set("total", n)
			},
			"log": func(*vat.Call) (any, error) { _, log := get(); return log, nil },
		}), nil
	})
	return reg
}

var bankCluster = kernel.ClusterConfig{Bootstrap: "bank", Vats: map[string]kernel.VatConfig{"bank": {Bundle: "bank"}}}

func restartKernelA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	pipe := newRemotePipe(t)
	k := startNode(t, actors.Config{Registry: vat.NewRegistry(), Remote: remoteConfig(false)})
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	b := pipe.Read()
	toB, err := k.AddRemote(ctx, b.Peer, b.Addr)
	require.NoError(t, err)
	pipe.Write(remoteLine{Addr: me.Address, Peer: me.ID})
	bank, err := k.ImportFromRemote(ctx, toB, pipe.Read().Ref)
	require.NoError(t, err)
	var report remoteLine
	deposit := func(i int64) {
		v, err := k.QueueMessage(ctx, bank, "deposit", i)
		require.NoError(t, err, "deposit %d", i)
		report.Log = append(report.Log, v.(int64))
	}
	for i := int64(1); i <= 3; i++ {
		deposit(i)
	}
	pipe.Write(report)
	pipe.Read() // B is dead
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := int64(4); i <= 6; i++ {
			deposit(i) // the first waits, in A's outbox, for B to come back
		}
	}()
	moved := pipe.Read()
	require.Equal(t, b.Peer, moved.Peer, "the same key: the same peer")
	again, err := k.AddRemote(ctx, moved.Peer, moved.Addr)
	require.NoError(t, err)
	require.Equal(t, toB, again, "a moved peer keeps its remote id")
	<-done
	l := auditAndDrain(ctx, t, k)
	report.Problems, report.Pending = l.Problems, l.Pending
	pipe.Write(report)
}

func restartKernelB(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	pipe := newRemotePipe(t)
	db := filepath.Join(os.Getenv(bankDirEnv), "b.db")
	_, statErr := os.Stat(db)
	first := os.IsNotExist(statErr)
	k, err := actors.Start(ctx, actors.Config{Registry: durableBank(), DBPath: db,
		CommitPolicy: persistence.Group, Remote: remoteConfig(false)})
	require.NoError(t, err)
	defer k.Stop(context.WithoutCancel(ctx))
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	pipe.Write(remoteLine{Addr: me.Address, Peer: me.ID})
	if first {
		a := pipe.Read()
		toA, err := k.AddRemote(ctx, a.Peer, a.Addr)
		require.NoError(t, err)
		res, err := k.LaunchSubcluster(ctx, bankCluster)
		require.NoError(t, err)
		ref, err := k.ExportToRemote(ctx, toA, res.RootKref)
		require.NoError(t, err)
		pipe.Write(remoteLine{Ref: ref})
		// Until the parent kills this process.
		<-ctx.Done()
		return
	}
	pipe.Read() // A is done
	res, err := k.Subcluster(ctx, bankCluster)
	require.NoError(t, err)
	v, err := k.QueueMessage(ctx, res.RootKref, "log")
	require.NoError(t, err)
	report := auditAndDrain(ctx, t, k)
	for _, d := range v.([]any) {
		report.Log = append(report.Log, d.(int64))
	}
	pipe.Write(report)
}
