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

// Two daemons that have never met, driven by the CLI alone, with no
// "remotes add" on either: B issues a URL for its counter, A redeems it
// (A adds B from the URL; B takes the redeem as an introduction, over
// mutual TLS, from a key it never saw), and A's sends through the
// presence reach B's counter and answer. B then lists exactly one
// remote, A's peer id at A's address; both outboxes drain, and both
// daemons stop cleanly.
func TestServeIntroduction(t *testing.T) {
	dir := t.TempDir()
	dbA, dbB := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	a := serve(t, dbA, "--remote-listen", "127.0.0.1:0")
	b := serve(t, dbB, "--remote-listen", "127.0.0.1:0", "--commit", "group")
	peer := func(db string) control.Peer {
		code, out, errOut := cli(t, "status", "--db", db, "--json")
		require.Equal(t, 0, code, errOut)
		var st control.Status
		require.NoError(t, json.Unmarshal([]byte(out), &st))
		require.NotNil(t, st.Peer, "status shows the node")
		return *st.Peer
	}
	pa, pb := peer(dbA), peer(dbB)
	remotes := func(db string) []control.Remote {
		code, out, errOut := cli(t, "remotes", "--db", db, "--json")
		require.Equal(t, 0, code, errOut)
		var list []control.Remote
		require.NoError(t, json.Unmarshal([]byte(out), &list))
		return list
	}
	require.Empty(t, remotes(dbB), "B knows nobody")

	launched := launchCounter(t, dir, dbB)
	code, out, errOut := cli(t, "url", "issue", launched.RootKref, "--db", dbB)
	require.Equal(t, 0, code, errOut)
	url := strings.TrimSpace(out)
	code, out, errOut = cli(t, "url", "redeem", url, "--db", dbA)
	require.Equal(t, 0, code, errOut)
	byURL := strings.TrimSpace(out)
	for i, by := range []string{"5", "2"} {
		code, out, errOut = cli(t, "send", byURL, "incr", by, "--db", dbA)
		require.Equal(t, 0, code, errOut)
		require.JSONEq(t, []string{"5", "7"}[i], out, "A's send %d, answered by B's counter", i+1)
	}
	list := remotes(dbB)
	require.Len(t, list, 1, "B introduced A, once")
	require.Equal(t, pa.ID, list[0].Peer, "pinned to the key A proved")
	require.Equal(t, pa.Address, list[0].Address, "reached where A's redeem said")
	list = remotes(dbA)
	require.Len(t, list, 1)
	require.Equal(t, pb.ID, list[0].Peer, "A added B from the URL")

	// Every message acked, both ways (a real network: poll, bounded).
	for _, db := range []string{dbA, dbB} {
		deadline := time.Now().Add(startBound)
		for {
			list := remotes(db)
			require.Len(t, list, 1)
			if list[0].Pending == 0 {
				require.False(t, list[0].GivenUp)
				break
			}
			require.True(t, time.Now().Before(deadline), "outbox of %s never drained: %+v", db, list)
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, d := range []*daemon{a, b} {
		require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
		require.Equal(t, 0, d.wait(t), d.output())
	}
}
