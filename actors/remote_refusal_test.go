package actors_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/ocapurl"
	"github.com/ocapgo/kernel-actors/vat"
)

// Two kernels that never met, each in its own process, over mutual TLS,
// neither giving up on a peer (GiveUpAfter 0): A's host redeems a URL B
// revoked, then one whose oid B never issued. B answers each with a
// refusal and keeps nothing of A, and each RedeemURL returns
// OCAP_URL_UNKNOWN (before, it waited until its context ended), with A
// left with no remote. Then A redeems B's live URL: a fresh link, B
// introduces A, and a deposit through the presence is answered. B has
// exactly one remote at the end, and both auditors are green.
func TestRemoteRefusal(t *testing.T) {
	switch os.Getenv(remoteRoleEnv) {
	case "a":
		refusalKernelA(t)
		return
	case "b":
		refusalKernelB(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	name := "TestRemoteRefusal"
	b := startRemoteChild(t, ctx, name, "b")
	a := startRemoteChild(t, ctx, name, "a")
	a.Write(b.Read()) // B's live URL and its revoked one
	answers := a.Read()
	b.Write(remoteLine{Peer: answers.Peer, Addr: answers.Addr})
	report := b.Read()
	a.Wait()
	b.Wait()
	require.Equal(t, []int64{4}, answers.Log, "the deposit through the live URL")
	require.Empty(t, answers.Problems, "A's auditor")
	require.Zero(t, answers.Pending)
	require.Equal(t, []int64{4}, report.Log, "B's bank took the one deposit")
	require.Empty(t, report.Problems, "B's auditor")
	require.Equal(t, uint64(2), report.Applied, "B applied the fresh link's redeem and deposit, nothing of the refused ones")
}

// refusalKernelA redeems the revoked URL, an unknown one, then the live.
func refusalKernelA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pipe := newRemotePipe(t)
	k := startNode(t, actors.Config{Registry: vat.NewRegistry(), Remote: remoteConfig(false)})
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	urls := pipe.Read()
	unknown, err := ocapurl.Parse(urls.URL)
	require.NoError(t, err)
	unknown.OID = strings.Repeat("5", 32)
	for _, url := range []string{urls.Ref, unknown.String()} {
		// Well within the test's deadline, with no GiveUpAfter: only the
		// refusal can end it.
		rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := k.RedeemURL(rctx, url)
		rcancel()
		require.True(t, kernel.Carries(err, kernel.ErrOcapURLUnknown), "%v", err)
		require.NotContains(t, err.Error(), unknown.OID)
		remotes, err := k.Remotes(ctx)
		require.NoError(t, err)
		require.Empty(t, remotes, "the link B never took up is forgotten")
	}
	bank, err := k.RedeemURL(ctx, urls.URL)
	require.NoError(t, err)
	v, err := k.QueueMessage(ctx, bank, "deposit", int64(4))
	require.NoError(t, err)
	report := auditAndDrain(ctx, t, k)
	report.Peer, report.Addr = me.ID, me.Address
	report.Log = []int64{v.(int64)}
	pipe.Write(report)
}

// refusalKernelB is the bank: a live URL and a revoked one, and no word
// of A.
func refusalKernelB(t *testing.T) {
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
	live, err := k.IssueURL(ctx, res.RootKref)
	require.NoError(t, err)
	revoked, err := k.IssueURL(ctx, res.RootKref)
	require.NoError(t, err)
	require.NoError(t, k.RevokeURL(ctx, revoked))
	pipe.Write(remoteLine{URL: live, Ref: revoked})
	a := pipe.Read()
	remotes, err := k.Remotes(ctx)
	require.NoError(t, err)
	require.Len(t, remotes, 1, "only the live URL's redemption made a remote")
	require.Equal(t, a.Peer, remotes[0].PeerID)
	report := auditAndDrain(ctx, t, k)
	require.NoError(t, k.WaitIdle(ctx))
	report.Log = deposits
	pipe.Write(report)
}
