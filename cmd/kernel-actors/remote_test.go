package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/control"
)

// Two daemons on a network of kernels, driven by the CLI alone: each
// serve listens for peers (--remote-listen, mutual TLS), status shows
// each one's peer id and address, "remotes add" makes each a peer of the
// other, B's counter is exported to A and imported there, and sends from
// A's host reach B's vat and answer; so do sends to the counter redeemed
// from an OCAP URL B issued, until B revokes it. Both outboxes drain, and both
// daemons stop cleanly (the remote is released).
func TestServeRemotes(t *testing.T) {
	dir := t.TempDir()
	dbA, dbB := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	a := serve(t, dbA, "--remote-listen", "127.0.0.1:0", "--commit", "group")
	b := serve(t, dbB, "--remote-listen", "127.0.0.1:0")
	require.Contains(t, a.output(), "listening for kernels on 127.0.0.1:")

	peer := func(db string) control.Peer {
		code, out, errOut := cli(t, "status", "--db", db, "--json")
		require.Equal(t, 0, code, errOut)
		var st control.Status
		require.NoError(t, json.Unmarshal([]byte(out), &st))
		require.NotNil(t, st.Peer, "status shows the node")
		return *st.Peer
	}
	pa, pb := peer(dbA), peer(dbB)
	code, out, errOut := cli(t, "status", "--db", dbA)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "peer          "+pa.ID)

	add := func(db string, p control.Peer) string {
		code, out, errOut := cli(t, "remotes", "add", p.ID, p.Address, "--db", db)
		require.Equal(t, 0, code, errOut)
		return strings.TrimSpace(out)
	}
	aToB, bToA := add(dbA, pb), add(dbB, pa)
	require.Equal(t, "r1", aToB)
	require.Equal(t, "r1", bToA)

	launched := launchCounter(t, dir, dbB)
	code, out, errOut = cli(t, "remotes", "export", bToA, launched.RootKref, "--db", dbB)
	require.Equal(t, 0, code, errOut)
	ref := strings.TrimSpace(out)
	code, out, errOut = cli(t, "remotes", "import", aToB, ref, "--db", dbA)
	require.Equal(t, 0, code, errOut)
	presence := strings.TrimSpace(out)

	for i, want := range []string{"5", "7"} {
		by := []string{"5", "2"}[i]
		code, out, errOut = cli(t, "send", presence, "incr", by, "--db", dbA)
		require.Equal(t, 0, code, errOut)
		require.JSONEq(t, want, out, "A's send %d, answered by B's counter", i+1)
	}
	// The same counter by an OCAP URL: issued on B, redeemed on A.
	code, out, errOut = cli(t, "url", "issue", launched.RootKref, "--db", dbB)
	require.Equal(t, 0, code, errOut)
	url := strings.TrimSpace(out)
	require.Contains(t, url, pb.ID)
	code, out, errOut = cli(t, "url", "redeem", url, "--db", dbA)
	require.Equal(t, 0, code, errOut)
	byURL := strings.TrimSpace(out)
	code, out, errOut = cli(t, "send", byURL, "incr", "1", "--db", dbA)
	require.Equal(t, 0, code, errOut)
	require.JSONEq(t, "8", out)
	code, _, errOut = cli(t, "url", "revoke", url, "--db", dbB)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = cli(t, "url", "redeem", url, "--db", dbA)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "OCAP_URL_UNKNOWN", "a revoked URL is refused by its issuer")
	// B's own view of its counter: the three sends ran there, once each.
	code, out, errOut = cli(t, "send", launched.RootKref, "get", "--db", dbB)
	require.Equal(t, 0, code, errOut)
	require.JSONEq(t, "8", out)

	// Every message acked, both ways (a real network: poll, bounded).
	for _, db := range []string{dbA, dbB} {
		deadline := time.Now().Add(startBound)
		for {
			code, out, errOut = cli(t, "remotes", "--db", db, "--json")
			require.Equal(t, 0, code, errOut)
			var list []control.Remote
			require.NoError(t, json.Unmarshal([]byte(out), &list))
			require.Len(t, list, 1)
			if list[0].Pending == 0 {
				require.False(t, list[0].GivenUp)
				break
			}
			require.True(t, time.Now().Before(deadline), "outbox of %s never drained: %s", db, out)
			time.Sleep(20 * time.Millisecond)
		}
	}
	code, out, errOut = cli(t, "remotes", "--db", dbA)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^r1 +`+pb.ID+` +`+pb.Address+` +0 +active$`, out)

	for _, d := range []*daemon{a, b} {
		require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
		require.Equal(t, 0, d.wait(t), d.output())
	}
}
