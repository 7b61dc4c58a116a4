//go:build jsvat

package jsvats_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// These tests need Node.js and the worker's packages (npm ci --prefix
// jsvat/worker). They run the binary in a temporary directory, so the
// worker is found through --js-worker and the bundleSpecs beside the
// cluster files, not through the working directory.

func workerFlag(t *testing.T) []string {
	return []string{"--js-worker", filepath.Join(repoRoot(t), "jsvat", "worker")}
}

// TestRunResumes: run --config on each cluster prints the bootstrap
// result its vats compute (the JS greeter's greeting, the pipelined
// counter, and in the mixed one the Go counter and the object echo/bob
// sends back), and a second run on the same --db resumes the subcluster
// and prints that result again without running the bootstrap again.
func TestRunResumes(t *testing.T) {
	for _, c := range []struct{ file, result string }{
		{"cluster.yaml", `"Hello, ocap-kernel!; visits: 1"`},
		{"mixed.yaml", `"Hi, ocap-kernel!; visits: 1; Go counter: 2; echo/bob returned the same object"`},
	} {
		t.Run(c.file, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "k.db")
			args := append([]string{"run", "--config", config(t, c.file), "--db", db}, workerFlag(t)...)
			code, stdout, stderr := cli(t, dir, nil, args...)
			require.Equal(t, 0, code, stderr)
			require.Contains(t, stdout, "launched subcluster s1")
			require.Contains(t, stdout, "bootstrap result: "+c.result+"\n")

			code, stdout, stderr = cli(t, dir, nil, args...)
			require.Equal(t, 0, code, stderr)
			require.Contains(t, stdout, "resumed. Its bootstrap ran before, with result "+c.result+"; it does not run again")
			require.Contains(t, stdout, "quiescent: 0 cranks in this run")
		})
	}
}

// TestBundleCacheKept: with --js-bundle-cache, the first run leaves the
// bundles of the cluster's two .js vats there, and a second run (in
// memory again, so it launches again) still prints the bootstrap result.
func TestBundleCacheKept(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "bundles")
	args := append([]string{"run", "--config", config(t, "cluster.yaml"), "--js-bundle-cache", cache}, workerFlag(t)...)
	for range 2 {
		code, stdout, stderr := cli(t, dir, nil, args...)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stdout, `bootstrap result: "Hello, ocap-kernel!; visits: 1"`)
		found, err := filepath.Glob(filepath.Join(cache, "deps-*", "*.json"))
		require.NoError(t, err)
		require.Len(t, found, 2, "one bundle a .js vat")
	}
}

// TestServeMixed: serve on a new file, launch the mixed cluster through
// it, send visit() to the JS bootstrap vat's root (which finds its
// counter in baggage and counts the second visit), and see the four vats
// in status and vats, each with its code (a bundle for the Go vats, the
// bundleSpec for the JS ones); upgrade the JS greeter through the API
// and see the new code answer; SIGTERM then stops the daemon cleanly.
func TestServeMixed(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	serve := exec.Command(binary(t), append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--js-warm", "1"}, workerFlag(t)...)...)
	serve.Dir = dir
	var sout, serr strings.Builder
	serve.Stdout, serve.Stderr = &sout, &serr
	require.NoError(t, serve.Start())
	done := make(chan error, 1)
	go func() { done <- serve.Wait() }()
	t.Cleanup(func() {
		serve.Process.Kill()
		<-done
	})

	// launch waits for the daemon's readiness (PATH.addr) itself.
	code, out, errOut := cli(t, dir, nil, "launch", "--config", config(t, "mixed.yaml"), "--db", db)
	require.Equal(t, 0, code, errOut)
	var launched struct {
		RootKref        string
		VatIDs          map[string]string
		Roots           map[string]string
		BootstrapResult json.RawMessage
	}
	require.NoError(t, json.Unmarshal([]byte(out), &launched), out)
	require.JSONEq(t, `"Hi, ocap-kernel!; visits: 1; Go counter: 2; echo/bob returned the same object"`, string(launched.BootstrapResult))
	require.Len(t, launched.VatIDs, 4)

	code, out, errOut = cli(t, dir, nil, "send", launched.RootKref, "visit", "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "2", strings.TrimSpace(out))

	code, out, errOut = cli(t, dir, nil, "status", "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, regexp.MustCompile(`vats\s+4 \(4 active\)`), out)

	code, out, errOut = cli(t, dir, nil, "vats", "--db", db)
	require.Equal(t, 0, code, errOut)
	for name, code := range map[string]string{
		"bootstrap": config(t, "bootstrap.js"), "greeter": config(t, "greeter.js"),
		"counter": "std/counter", "echo": "echo/bob",
	} {
		require.Regexp(t, regexp.MustCompile(`(?m)^`+launched.VatIDs[name]+`\s+`+name+`\s+s1\s+`+regexp.QuoteMeta(code)+`\s`), out)
	}

	// Upgrade the JS greeter through the API to a version that greets
	// otherwise, from a path relative to the client's directory (which
	// the client makes absolute: the daemon's directory is another). Its
	// durable counter, kept in the bootstrap vat's baggage, still counts.
	v1, err := os.ReadFile("greeter.js")
	require.NoError(t, err)
	v2 := strings.Replace(string(v1), "`${greeting}, ${name}!`", "`${greeting} again, ${name}!`", 1)
	require.NotEqual(t, string(v1), v2, "greeter.js no longer has the line this test changes")
	client := t.TempDir()
	writeFile(t, filepath.Join(client, "greeter-v2.js"), v2)
	greeter := launched.VatIDs["greeter"]
	code, out, errOut = cli(t, client, nil, "upgrade", greeter, "--bundle-spec", "greeter-v2.js", "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "vat "+greeter+" upgraded to "+filepath.Join(client, "greeter-v2.js")+": incarnation 1\n", out)
	code, out, errOut = cli(t, dir, nil, "send", launched.Roots["greeter"], "greet", "bob", "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, `"Hi again, bob!"`, strings.TrimSpace(out))
	code, out, errOut = cli(t, dir, nil, "send", launched.RootKref, "visit", "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "3", strings.TrimSpace(out))
	code, out, errOut = cli(t, dir, nil, "vats", "--db", db)
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, regexp.MustCompile(`(?m)^`+greeter+`\s+greeter\s+s1\s+`+regexp.QuoteMeta(filepath.Join(client, "greeter-v2.js"))+`\s.*\s1\s`), out)
	// A Go vat is not upgraded to JavaScript: refused, naming why.
	code, _, errOut = cli(t, client, nil, "upgrade", launched.VatIDs["counter"], "--bundle-spec", "greeter-v2.js", "--db", db)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "is a Go vat")

	require.NoError(t, serve.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		done <- err // for the cleanup
		require.NoError(t, err, "stderr:\n%s", serr.String())
	case <-time.After(time.Minute):
		t.Fatalf("serve did not stop within a minute of SIGTERM; stderr:\n%s", serr.String())
	}
	require.Contains(t, sout.String(), "stopped")
	_, err = os.Stat(db + ".addr")
	require.ErrorIs(t, err, os.ErrNotExist)
}
