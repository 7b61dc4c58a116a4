package control_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/remote/identity"
)

// A kernel on the network behind the API: status shows its peer id and
// address; a peer is added (a bad peer id or address refused as 400,
// naming it), listed, given an object and asked for one; an unknown
// remote is a 404; giving up shows in the list. (One kernel with a
// remote per process: this test is the package's only one.)
func TestRemoteEndpoints(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	reg := registry()
	k, err := actors.Start(ctx, actors.Config{Registry: reg,
		Remote: &actors.RemoteConfig{Host: "127.0.0.1", InsecureLoopback: true}})
	require.NoError(t, err)
	srv := httptest.NewServer((&control.Server{Kernel: k, Token: token, Registry: reg, MaxBody: 4096}).Handler())
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, k.Stop(context.Background()))
	})
	c := &control.Client{Base: srv.URL, Token: token}

	st, err := c.Status(ctx)
	require.NoError(t, err)
	require.NotNil(t, st.Peer)
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	require.Equal(t, control.Peer{ID: me.ID, Address: me.Address}, *st.Peer)

	list, err := c.Remotes(ctx)
	require.NoError(t, err)
	require.Empty(t, list)

	_, err = c.AddRemote(ctx, "not-a-peer-id", "127.0.0.1:9")
	ae := apiErr(t, err)
	require.Equal(t, http.StatusBadRequest, ae.Status)
	require.Contains(t, ae.Message, "peer id")
	peer, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	_, err = c.AddRemote(ctx, string(peer.ID()), "nowhere")
	ae = apiErr(t, err)
	require.Equal(t, http.StatusBadRequest, ae.Status)
	require.Contains(t, ae.Message, "HOST:PORT")

	id, err := c.AddRemote(ctx, string(peer.ID()), "127.0.0.1:9")
	require.NoError(t, err)
	require.Equal(t, "r1", id)
	again, err := c.AddRemote(ctx, string(peer.ID()), "127.0.0.1:10")
	require.NoError(t, err)
	require.Equal(t, id, again, "a known peer keeps its id")
	list, err = c.Remotes(ctx)
	require.NoError(t, err)
	require.Equal(t, []control.Remote{{ID: "r1", Peer: string(peer.ID()), Address: "127.0.0.1:10"}}, list)

	res, err := c.Launch(ctx, []byte("bootstrap: counter\nvats:\n  counter: {bundle: counter}\n"))
	require.NoError(t, err)
	ref, err := c.ExportToRemote(ctx, id, res.RootKref)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ref, "ro+"), ref)
	presence, err := c.ImportFromRemote(ctx, id, "ro+7")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(presence, "ko"), presence)
	_, err = c.ImportFromRemote(ctx, id, "ro-7")
	require.Equal(t, http.StatusBadRequest, apiErr(t, err).Status, "a ref the peer did not allocate")

	// OCAP URLs: issued for a root, redeemed here for the root itself,
	// revoked, then refused; a malformed one is a 400.
	url, err := c.IssueURL(ctx, res.RootKref)
	require.NoError(t, err)
	require.Contains(t, url, me.ID)
	got, err := c.RedeemURL(ctx, url)
	require.NoError(t, err)
	require.Equal(t, res.RootKref, got)
	require.NoError(t, c.RevokeURL(ctx, url))
	_, err = c.RedeemURL(ctx, url)
	ae = apiErr(t, err)
	require.Equal(t, "OCAP_URL_UNKNOWN", ae.Code)
	require.NotContains(t, ae.Message, url)
	require.NotContains(t, ae.Message, res.RootKref)
	_, err = c.RedeemURL(ctx, "ocap:nonsense")
	require.Equal(t, "BAD_URL", apiErr(t, err).Code)
	_, err = c.IssueURL(ctx, "nonsense")
	require.Equal(t, http.StatusBadRequest, apiErr(t, err).Status)

	_, err = c.ExportToRemote(ctx, "r9", res.RootKref)
	require.Equal(t, http.StatusNotFound, apiErr(t, err).Status)
	_, err = c.ExportToRemote(ctx, "x", res.RootKref)
	require.Equal(t, http.StatusNotFound, apiErr(t, err).Status)

	require.NoError(t, c.GiveUpRemote(ctx, id))
	list, err = c.Remotes(ctx)
	require.NoError(t, err)
	require.True(t, list[0].GivenUp)
	_, err = c.ImportFromRemote(ctx, id, "ro+8")
	ae = apiErr(t, err)
	require.Equal(t, "REMOTE_GIVEN_UP", ae.Code, "a given-up remote introduces nothing more")
	require.NotContains(t, ae.Message, "ko")

	// Only with the token.
	resp, err := http.Get(srv.URL + "/v1/remotes")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/remotes", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// A kernel without a remote answers the remote endpoints 409 NO_REMOTE,
// saying which flag puts it on the network, and its status has no peer.
func TestRemoteEndpointsWithoutRemote(t *testing.T) {
	f := newFixture(t)
	_, err := f.c.Remotes(f.ctx)
	ae := apiErr(t, err)
	require.Equal(t, http.StatusConflict, ae.Status)
	require.Equal(t, "NO_REMOTE", ae.Code)
	require.Contains(t, ae.Message, "--remote-listen")
	_, err = f.c.IssueURL(f.ctx, "ko1")
	require.Equal(t, "NO_REMOTE", apiErr(t, err).Code)
	_, err = f.c.RedeemURL(f.ctx, "ocap:x")
	require.Equal(t, "NO_REMOTE", apiErr(t, err).Code)
	st, err := f.c.Status(f.ctx)
	require.NoError(t, err)
	require.Nil(t, st.Peer)
}
