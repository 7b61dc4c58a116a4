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
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/vat"
)

// Two kernels that have never met, each in its own process, over mutual
// TLS: B issues a URL for its bank, and nobody tells B about A (no
// AddRemote on B, ever). A vat of A redeems the URL through the kernel's
// redemption service and deposits through the promise: the crank adds B
// as A's remote on its own, pinned to the URL's key, and B takes the
// redeem as an introduction (a key it never saw, proving itself in the
// handshake, redeeming a live URL). Then A's host redeems the URL too
// and deposits through the presence. Every answer is the running total,
// B's bank took each deposit once and in order, B has exactly one
// remote, A's key at A's address, and both auditors are green with both
// outboxes drained.
func TestRemoteIntroduction(t *testing.T) {
	switch os.Getenv(remoteRoleEnv) {
	case "a":
		introKernelA(t)
		return
	case "b":
		introKernelB(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	name := "TestRemoteIntroduction"
	b := startRemoteChild(t, ctx, name, "b")
	a := startRemoteChild(t, ctx, name, "a")
	a.Write(b.Read()) // B's URL, and nothing else
	answers := a.Read()
	b.Write(remoteLine{Peer: answers.Peer, Addr: answers.Addr}) // who A is, for B's report only
	report := b.Read()
	a.Wait()
	b.Wait()

	require.Equal(t, []int64{2, 5}, answers.Log, "A's answers: the vat's deposit through the redemption, then the host's")
	require.Empty(t, answers.Problems, "A's auditor")
	require.Zero(t, answers.Pending, "A's outbox drained: B acked every message")
	require.Equal(t, []int64{2, 3}, report.Log, "B's bank took each deposit once, in order")
	require.Empty(t, report.Problems, "B's auditor")
	require.Zero(t, report.Pending, "B's outbox drained: A acked every answer")
	require.Equal(t, uint64(4), report.Applied, "B applied A's four messages once each (two redeems, two deposits)")
}

// introKernelA redeems B's URL from a vat, then from the host.
func introKernelA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pipe := newRemotePipe(t)
	reg := vat.NewRegistry()
	reg.MustRegister("client", func(vc *vat.Context) (any, error) {
		var redeemer any
		return vat.Far("client", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) {
				redeemer = c.Arg(1).(map[string]any)[kernel.RedemptionServiceName]
				return nil, nil
			},
			"use": func(c *vat.Call) (any, error) {
				bank := vat.E(redeemer).Send("redeem", c.Arg(0))
				return vat.E(bank).Send("deposit", c.Arg(1)).Await()
			},
		}), nil
	})
	k := startNode(t, actors.Config{Registry: reg, Remote: remoteConfig(false)})
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	url := pipe.Read().URL
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "client",
		Services: []string{kernel.RedemptionServiceName},
		Vats:     map[string]kernel.VatConfig{"client": {Bundle: "client"}}})
	require.NoError(t, err)
	report := remoteLine{Peer: me.ID, Addr: me.Address}
	v, err := k.QueueMessage(ctx, res.RootKref, "use", url, int64(2))
	require.NoError(t, err, "the vat's redemption and deposit")
	report.Log = append(report.Log, v.(int64))
	remotes, err := k.Remotes(ctx)
	require.NoError(t, err)
	require.Len(t, remotes, 1, "the redemption added the issuer")
	bank, err := k.RedeemURL(ctx, url)
	require.NoError(t, err)
	v, err = k.QueueMessage(ctx, bank, "deposit", int64(3))
	require.NoError(t, err)
	report.Log = append(report.Log, v.(int64))
	l := auditAndDrain(ctx, t, k)
	report.Problems, report.Pending = l.Problems, l.Pending
	pipe.Write(report)
}

// introKernelB is the bank: it issues a URL and is told nothing of A.
func introKernelB(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pipe := newRemotePipe(t)
	var deposits []int64
	reg := loggingBank(&deposits)
	k := startNode(t, actors.Config{Registry: reg, DBPath: filepath.Join(t.TempDir(), "b.db"),
		CommitPolicy: persistence.Group, Remote: remoteConfig(false)})
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "bank",
		Vats: map[string]kernel.VatConfig{"bank": {Bundle: "bank"}}})
	require.NoError(t, err)
	url, err := k.IssueURL(ctx, res.RootKref)
	require.NoError(t, err)
	pipe.Write(remoteLine{URL: url})
	a := pipe.Read() // A is done; who it is, to check what B made of it
	remotes, err := k.Remotes(ctx)
	require.NoError(t, err)
	require.Len(t, remotes, 1, "B introduced A, once")
	require.Equal(t, a.Peer, remotes[0].PeerID, "pinned to the key A proved in the handshake")
	require.Equal(t, a.Addr, remotes[0].Address, "reached where A's redeem said it listens")
	report := auditAndDrain(ctx, t, k)
	require.NoError(t, k.WaitIdle(ctx))
	report.Log = deposits
	pipe.Write(report)
}
