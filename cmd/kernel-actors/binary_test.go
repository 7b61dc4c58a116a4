package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/inspect"
)

// These tests run the built binary, as a user would.

var build struct {
	once sync.Once
	path string
	err  error
}

// binary builds kernel-actors once per test run.
func binary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "kernel-actors-bin")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "kernel-actors")
		out, err := exec.Command("go", "build", "-o", build.path, ".").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, build.err)
	return build.path
}

func TestMain(m *testing.M) {
	if point := os.Getenv(cutLaunchEnv); point != "" {
		os.Exit(cutLaunchChild(point)) // runresume_test.go
	}
	code := m.Run()
	if build.path != "" {
		os.RemoveAll(filepath.Dir(build.path))
	}
	os.Exit(code)
}

// cli runs the binary to completion.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

const counterConfig = "bootstrap: counter\nvats:\n  counter:\n    bundle: std/counter\n"

// run launches a config, resumes it on the same file without a second
// bootstrap, and reports a broken config by file, line and field.
func TestRunConfig(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", "bootstrap: alice\nvats:\n  alice: {bundle: echo/alice}\n  bob: {bundle: echo/bob}\n")
	db := filepath.Join(dir, "k.db")
	code, out, errOut := cli(t, "run", "--config", good, "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "launched subcluster s1: alice=v1 bob=v2")
	require.Contains(t, out, "bootstrap result: null")
	require.Contains(t, out, "quiescent:")
	require.Empty(t, errOut, "quiet when stderr is not a terminal")

	code, out, errOut = cli(t, "run", "--config", good, "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "subcluster s1 is in "+db+" already: resumed")
	require.NotContains(t, out, "launched")

	bad := writeFile(t, dir, "bad.yaml", "bootstrap: alice\nvats:\n  alice:\n    bundle: echo/alice\n    failurePolicy: restrat\n")
	code, _, errOut = cli(t, "run", "--config", bad)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, bad+`:5: vats.alice.failurePolicy: "restrat" is not one of "terminate", "restart"`)
	unknown := writeFile(t, dir, "unknown.json", `{"bootstrap": "a", "vats": {"a": {"bundle": "no/such"}}}`)
	code, _, errOut = cli(t, "run", "--config", unknown)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, unknown+`:1: vats.a.bundle: vat: no bundle named "no/such" is registered`)
}

// serve and the clients end to end over loopback, the API's refusals, the
// inspector beside the running daemon, and a clean stop on SIGTERM.
func TestServeAndClients(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	d := serve(t, db, "--max-body", "2048")
	fi, err := os.Stat(control.TokenPath(db))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the token is nobody else's")

	cfg := writeFile(t, dir, "c.yaml", counterConfig)
	code, out, errOut := cli(t, "launch", "--db", db, "--config", cfg)
	require.Equal(t, 0, code, errOut)
	var launched control.LaunchResponse
	require.NoError(t, json.Unmarshal([]byte(out), &launched))
	root := launched.RootKref
	require.Equal(t, `"counter ready"`, string(launched.BootstrapResult))

	code, out, errOut = cli(t, "send", "--db", db, root, "incr", "5")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "5\n", out)
	code, out, _ = cli(t, "send", root, "get", "--db", db) // flags after arguments too
	require.Equal(t, 0, code)
	require.Equal(t, "5\n", out)
	code, _, errOut = cli(t, "send", "--db", db, root, "fly")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `has no method "fly"`)
	require.Contains(t, errOut, "HTTP 422")

	code, out, _ = cli(t, "status", "--db", db)
	require.Equal(t, 0, code)
	require.Contains(t, out, "vats          1 (1 active)")
	code, out, _ = cli(t, "vats", "--db", db)
	require.Equal(t, 0, code)
	require.Contains(t, out, "std/counter")

	code, out, errOut = cli(t, "restart", "--db", db, launched.VatIDs["counter"])
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "incarnation 1")
	code, out, _ = cli(t, "send", "--db", db, root, "incr")
	require.Equal(t, 0, code)
	require.Equal(t, "6\n", out, "the durable count survived the restart")

	// A second subcluster, to terminate.
	code, out, _ = cli(t, "launch", "--db", db, "--config", cfg)
	require.Equal(t, 0, code)
	var second control.LaunchResponse
	require.NoError(t, json.Unmarshal([]byte(out), &second))
	code, _, errOut = cli(t, "terminate", "--db", db, second.VatIDs["counter"], "--reason", "test")
	require.Equal(t, 0, code, errOut)
	code, out, _ = cli(t, "status", "--db", db)
	require.Equal(t, 0, code)
	require.Contains(t, out, "vats          2 (1 active)")
	code, _, errOut = cli(t, "send", "--db", db, second.RootKref, "get")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "OBJECT_DELETED")

	// The inspector reads the file while the daemon runs.
	code, out, errOut = cli(t, "inspect", "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "AUDIT: ok")
	require.Contains(t, out, "std/counter")
	code, out, errOut = cli(t, "inspect", "--live", "--db", db, "--json")
	require.Equal(t, 0, code, errOut)
	var rep inspect.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Vats, 2)

	// Refusals, over plain HTTP.
	do := func(method, path, auth, body string) int {
		req, err := http.NewRequest(method, d.client.Base+path, strings.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusUnauthorized, do("GET", "/v1/status", "", ""))
	require.Equal(t, http.StatusUnauthorized, do("GET", "/v1/status", "Bearer wrong", ""))
	require.Equal(t, http.StatusRequestEntityTooLarge, do("POST", "/v1/send", "Bearer "+d.client.Token, `{"target":"`+strings.Repeat("k", 4096)+`"}`))
	require.Equal(t, http.StatusBadRequest, do("POST", "/v1/send", "Bearer "+d.client.Token, `{"target":`))

	code, out, _ = cli(t, "revoke", "--db", db, root)
	require.Equal(t, 0, code)
	require.Contains(t, out, "revoked")
	code, _, errOut = cli(t, "send", "--db", db, root, "get")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "OBJECT_REVOKED")

	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-d.exited:
		require.NoError(t, d.err, d.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM:\n%s", d.output())
	}
	require.Contains(t, d.output(), "stopped")
	for _, p := range []string{control.AddrPath(db), control.TokenPath(db), control.PIDPath(db)} {
		_, err = os.Stat(p)
		require.ErrorIs(t, err, os.ErrNotExist, "%s goes with the daemon", p)
	}
	code, _, errOut = cli(t, "status", "--db", db)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "is `kernel-actors serve --db "+db+"` running?", "no silent fallback to another address")
	code, out, errOut = cli(t, "inspect", "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "AUDIT: ok")
}

// killSeed replays TestServeKillDashNine's kill point.
var killSeed = flag.Uint64("kill-seed", 0, "TestServeKillDashNine: the seed of the kill point to replay (0: a new one, printed)")

// kill -9 of serve during a stream of sends, then a restart: every
// acknowledged send's effect is there exactly once. Where it dies comes
// from a seed, printed; -kill-seed replays it.
func TestServeKillDashNine(t *testing.T) {
	seed := *killSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay: go test ./cmd/kernel-actors -run TestServeKillDashNine -kill-seed %d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	killAt := 20 + rng.IntN(80)  // acknowledged sends before the kill
	inFlight := rng.IntN(2) == 1 // one more send written to the daemon as it dies
	t.Logf("kill after %d acknowledged sends, one more in flight: %v", killAt, inFlight)

	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	d := serve(t, db)
	ctx := context.Background()
	res, err := d.client.Launch(ctx, []byte(counterConfig))
	require.NoError(t, err)

	var acked, sent []int
	for i := 0; len(acked) < killAt; i++ {
		sent = append(sent, i)
		if _, err := d.client.Send(ctx, res.RootKref, "record", []any{i}); err != nil {
			t.Fatalf("send %d: %v\n%s", i, err, d.output())
		}
		acked = append(acked, i)
	}
	if inFlight {
		// Killed once the request is on the wire: whether the daemon
		// committed it is up to the race, and both ways must hold.
		i := len(sent)
		sent = append(sent, i)
		wrote := make(chan struct{})
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) }}
		go d.client.Send(httptrace.WithClientTrace(ctx, trace), res.RootKref, "record", []any{i})
		<-wrote
	}
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGKILL))
	<-d.exited

	d = serve(t, db)
	v, err := d.client.Send(ctx, res.RootKref, "seen", nil)
	require.NoError(t, err)
	var seen struct {
		Count      int      `json:"count"`
		IDs        []string `json:"ids"`
		Duplicates []string `json:"duplicates"`
	}
	require.NoError(t, json.Unmarshal(v, &seen))
	got := map[string]bool{}
	for _, id := range seen.IDs {
		got[id] = true
	}
	for _, id := range acked {
		require.True(t, got[fmt.Sprint(id)], "acknowledged send %d lost (seed %d)", id, seed)
	}
	require.Empty(t, seen.Duplicates, "a send delivered twice (seed %d)", seed)
	require.Equal(t, len(seen.IDs), seen.Count, "count and ids agree")
	require.LessOrEqual(t, len(seen.IDs), len(sent), "nothing recorded that was not sent")
	t.Logf("killed after %d acks; %d recorded", len(acked), len(seen.IDs))
}

// inspect on the database a demo left lists what the demo made, and the
// auditor is green.
func TestInspectDemoDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "tour.db")
	code, _, errOut := cli(t, "demo", "--db", db)
	require.Equal(t, 0, code, errOut)
	code, out, errOut := cli(t, "inspect", "--db", db)
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{"4 vats", "tour/alice", "tour/bob", "tour/bank", "terminated", "revoked", "AUDIT: ok"} {
		require.Contains(t, out, want)
	}
	code, out, _ = cli(t, "inspect", "--db", db, "--json")
	require.Equal(t, 0, code)
	var rep inspect.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.True(t, rep.Audit.OK)
	require.Len(t, rep.Vats, 4)
}
