package actors_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/remote/identity"
	"github.com/ocapgo/kernel-actors/vat"
)

// Bad remote settings are refused at Start, each naming its field, and
// no listener is left behind (the process may start a good one after).
func TestRemoteConfigRefused(t *testing.T) {
	cases := []struct {
		cfg  actors.RemoteConfig
		want string
	}{
		{actors.RemoteConfig{}, "Config.Remote.Host"},
		{actors.RemoteConfig{Host: "127.0.0.1", Port: 70000}, "Config.Remote.Port"},
		{actors.RemoteConfig{Host: "0.0.0.0", InsecureLoopback: true}, "Config.Remote.InsecureLoopback"},
		{actors.RemoteConfig{Host: "127.0.0.1", ResendEvery: -time.Second}, "Config.Remote.ResendEvery"},
		{actors.RemoteConfig{Host: "127.0.0.1", GiveUpAfter: -time.Second}, "Config.Remote.GiveUpAfter"},
		{actors.RemoteConfig{Host: "0.0.0.0", Advertise: "kernel.example"}, "Config.Remote.Advertise"},
		{actors.RemoteConfig{Host: "127.0.0.1", AckDelay: -time.Millisecond}, "Config.Remote.AckDelay"},
		// Not shorter than the resend interval, given or default.
		{actors.RemoteConfig{Host: "127.0.0.1", ResendEvery: 10 * time.Millisecond, AckDelay: 10 * time.Millisecond}, "Config.Remote.AckDelay"},
		{actors.RemoteConfig{Host: "127.0.0.1", AckDelay: actors.DefaultResendEvery}, "Config.Remote.AckDelay"},
	}
	for _, c := range cases {
		rc := c.cfg
		_, err := actors.Start(context.Background(), actors.Config{Registry: vat.NewRegistry(), Remote: &rc})
		require.ErrorIs(t, err, actors.ErrConfig, "%+v", c.cfg)
		require.Contains(t, err.Error(), c.want)
	}
	// A key file others may read is the identity's refusal, passed on.
	dir := t.TempDir()
	key := filepath.Join(dir, "k.key")
	require.NoError(t, os.WriteFile(key, []byte("not a key"), 0o644))
	_, err := actors.Start(context.Background(), actors.Config{Registry: vat.NewRegistry(),
		Remote: &actors.RemoteConfig{Host: "127.0.0.1", InsecureLoopback: true, KeyPath: key}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "key")
}

// A kernel without Config.Remote answers the remote calls ErrNoRemote and
// shows no peer in its status.
func TestNoRemote(t *testing.T) {
	ctx := context.Background()
	k := startNode(t, actors.Config{Registry: vat.NewRegistry()})
	_, err := k.LocalPeer(ctx)
	require.ErrorIs(t, err, actors.ErrNoRemote)
	_, err = k.Remotes(ctx)
	require.ErrorIs(t, err, actors.ErrNoRemote)
	_, err = k.AddRemote(ctx, strings.Repeat("a", 64), "127.0.0.1:1")
	require.ErrorIs(t, err, actors.ErrNoRemote)
	_, err = k.IssueURL(ctx, "ko1")
	require.ErrorIs(t, err, actors.ErrNoRemote)
	_, err = k.RedeemURL(ctx, "ocap:x")
	require.ErrorIs(t, err, actors.ErrNoRemote)
	st, err := k.Status(ctx)
	require.NoError(t, err)
	require.Nil(t, st.Peer)
}

// startNode starts a kernel for a test of the network side (a real
// clock, real sockets: no synctest bubble) and stops it when the test
// ends, checking that the stop released everything in time.
func startNode(t *testing.T, cfg actors.Config) *actors.Kernel {
	t.Helper()
	k, err := actors.Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		began := time.Now()
		require.NoError(t, k.Stop(ctx))
		t.Logf("stop took %v", time.Since(began))
	})
	return k
}

// deadAddress is a loopback address nobody listens on: a port that was
// free a moment ago.
func deadAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// A peer nobody can reach: sends to its object wait in the outbox (the
// host sees them pending), and once they have waited GiveUpAfter with no
// ack the kernel gives up on it. The host's pending result and a vat's
// are rejected with PEER_UNREACHABLE, with no kref in the text. (A real
// network is involved, so the test polls with a deadline.)
//
// The same test checks that a second kernel with a remote is refused in
// this process: protoactor-go remote's state is the process's.
func TestRemoteGiveUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	reg := vat.NewRegistry()
	reg.MustRegister("caller", func(vc *vat.Context) (any, error) {
		return vat.Far("caller", vat.Methods{
			"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
			"call": func(c *vat.Call) (any, error) {
				_, err := vat.E(c.Arg(0)).Send("hello").Await()
				if err == nil {
					return "answered", nil
				}
				return err.Error(), nil
			},
		}), nil
	})
	giveUp := 2 * time.Second
	k := startNode(t, actors.Config{Registry: reg, DBPath: filepath.Join(t.TempDir(), "k.db"),
		Remote: &actors.RemoteConfig{Host: "127.0.0.1", InsecureLoopback: true,
			ResendEvery: 20 * time.Millisecond, GiveUpAfter: giveUp}})

	_, err := actors.Start(ctx, actors.Config{Registry: reg,
		Remote: &actors.RemoteConfig{Host: "127.0.0.1", InsecureLoopback: true}})
	require.ErrorIs(t, err, actors.ErrRemoteInProcess, "a second remote kernel in the process")

	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	require.Len(t, me.ID, 64)
	require.True(t, strings.HasPrefix(me.Address, "127.0.0.1:"), me.Address)
	st, err := k.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, &me, st.Peer, "status shows the node")
	_, err = os.Stat(filepath.Join(filepath.Dir(st.DBPath), "k.db.key"))
	require.NoError(t, err, "the key is kept beside the database by default")

	ghost, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	r, err := k.AddRemote(ctx, string(ghost.ID()), deadAddress(t))
	require.NoError(t, err)
	presence, err := k.ImportFromRemote(ctx, r, "ro+1")
	require.NoError(t, err)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "caller",
		Vats: map[string]kernel.VatConfig{"caller": {Bundle: "caller"}}})
	require.NoError(t, err)

	hostErr := make(chan error, 1)
	go func() {
		_, err := k.QueueMessage(ctx, presence, "hello")
		hostErr <- err
	}()
	vatAnswer := make(chan any, 1)
	go func() {
		v, err := k.QueueMessage(ctx, res.RootKref, "call", presence)
		if err != nil {
			v = err
		}
		vatAnswer <- v
	}()
	// Both sends wait in the outbox before the give-up.
	for {
		infos, err := k.Remotes(ctx)
		require.NoError(t, err)
		require.Len(t, infos, 1)
		require.False(t, infos[0].GivenUp, "given up before %v", giveUp)
		if infos[0].Pending == 2 {
			require.Equal(t, r, infos[0].ID)
			require.Equal(t, string(ghost.ID()), infos[0].PeerID)
			break
		}
		require.NoError(t, ctx.Err())
		time.Sleep(5 * time.Millisecond)
	}
	err = <-hostErr
	require.ErrorIs(t, err, kernel.ErrPeerUnreachable, "the host's result")
	require.NotContains(t, err.Error(), string(presence))
	v := <-vatAnswer
	require.Contains(t, v, "[KERNEL:PEER_UNREACHABLE]", "the vat's result")
	require.NotContains(t, v, "ko")

	infos, err := k.Remotes(ctx)
	require.NoError(t, err)
	require.True(t, infos[0].GivenUp)
	require.Zero(t, infos[0].Pending, "the outbox is dropped")
	// A later send to its object fails at once: the object is orphaned.
	_, err = k.QueueMessage(ctx, presence, "again")
	require.True(t, errors.Is(err, kernel.ErrObjectDeleted) || errors.Is(err, kernel.ErrPeerUnreachable), "%v", err)
}

// Stop releases the remote: the listener is closed (its port can be
// bound again at once), and the process may start another kernel with a
// remote, on the same port.
func TestRemoteStopReleases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := actors.Config{Registry: vat.NewRegistry(), Remote: &actors.RemoteConfig{Host: "127.0.0.1", InsecureLoopback: true}}
	k, err := actors.Start(ctx, cfg)
	require.NoError(t, err)
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	c, err := net.Dial("tcp", me.Address)
	require.NoError(t, err, "the kernel listens")
	c.Close()
	require.NoError(t, k.Stop(ctx))
	_, err = k.LocalPeer(ctx)
	require.ErrorIs(t, err, actors.ErrStopped)

	l, err := net.Listen("tcp", me.Address)
	require.NoError(t, err, "the port is free once Stop returns")
	require.NoError(t, l.Close())
	_, port, _ := net.SplitHostPort(me.Address)
	cfg.Remote.Port, _ = strconv.Atoi(port)
	k2 := startNode(t, cfg)
	me2, err := k2.LocalPeer(ctx)
	require.NoError(t, err)
	require.Equal(t, me.Address, me2.Address)
	require.NotEqual(t, me.ID, me2.ID, "an in-memory kernel gets a fresh key")
}

// Advertise is the address peers are told, whatever the listener's.
func TestRemoteAdvertise(t *testing.T) {
	ctx := context.Background()
	k := startNode(t, actors.Config{Registry: vat.NewRegistry(),
		Remote: &actors.RemoteConfig{Host: "127.0.0.1", Advertise: "kernel.example:7420"}})
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	require.Equal(t, "kernel.example:7420", me.Address)
}

// The URL calls on one kernel: a URL names this kernel's peer id and
// address; redeeming one's own URL gives the local object; a revoked URL
// is OCAP_URL_UNKNOWN, with neither the URL's object id nor a kref in the
// text; a malformed one is ErrBadURL.
func TestRemoteURLs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg := vat.NewRegistry()
	reg.MustRegister("thing", func(vc *vat.Context) (any, error) {
		return vat.Far("thing", vat.Methods{"bootstrap": func(*vat.Call) (any, error) { return nil, nil }}), nil
	})
	k := startNode(t, actors.Config{Registry: reg, Remote: &actors.RemoteConfig{Host: "127.0.0.1", InsecureLoopback: true}})
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "thing",
		Vats: map[string]kernel.VatConfig{"thing": {Bundle: "thing"}}})
	require.NoError(t, err)
	url, err := k.IssueURL(ctx, res.RootKref)
	require.NoError(t, err)
	require.Contains(t, url, me.ID, "the URL names the kernel's peer id")
	require.Contains(t, url, me.Address, "and its address")
	got, err := k.RedeemURL(ctx, url)
	require.NoError(t, err)
	require.Equal(t, res.RootKref, got, "one's own URL is the local object")
	require.NoError(t, k.RevokeURL(ctx, url))
	_, err = k.RedeemURL(ctx, url)
	require.ErrorIs(t, err, kernel.ErrOcapURLUnknown)
	require.NotContains(t, err.Error(), string(res.RootKref))
	require.NotContains(t, err.Error(), url)
	_, err = k.RedeemURL(ctx, "ocap:not-a-url")
	require.ErrorIs(t, err, kernel.ErrBadURL)
}

// AckDelay left zero is DefaultAckDelay, or half of ResendEvery when
// that is shorter, so a short resend interval alone is not refused.
func TestRemoteAckDelayDefault(t *testing.T) {
	startNode(t, actors.Config{Registry: vat.NewRegistry(),
		Remote: &actors.RemoteConfig{Host: "127.0.0.1", InsecureLoopback: true, ResendEvery: actors.DefaultAckDelay}})
}
