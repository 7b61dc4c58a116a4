package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/control"
)

// startBound bounds the wait for serve to start, or to exit when it
// should: past it the test fails (it never sleeps).
const startBound = 60 * time.Second

// servingLine is what serve prints once it listens and has written
// PATH.addr and PATH.token.
const servingLine = "kernel-actors serving "

// daemon is a running `kernel-actors serve`.
type daemon struct {
	cmd    *exec.Cmd
	db     string
	out    *watchedOutput
	client *control.Client
	exited chan struct{} // closed when the process has ended
	err    error         // its exit status, once exited
}

// serve starts `kernel-actors serve --db db` on a free loopback port and
// returns once it serves, with a client for it.
// launchCounter launches the counter cluster (counterConfig, written in
// dir) on the serve at db, and returns the launch's answer.
func launchCounter(t *testing.T, dir, db string) control.LaunchResponse {
	t.Helper()
	cfg := writeFile(t, dir, "c.yaml", counterConfig)
	code, out, errOut := cli(t, "launch", "--db", db, "--config", cfg)
	require.Equal(t, 0, code, errOut)
	var launched control.LaunchResponse
	require.NoError(t, json.Unmarshal([]byte(out), &launched))
	return launched
}

func serve(t *testing.T, db string, extra ...string) *daemon {
	t.Helper()
	d := startServe(t, db, extra...)
	select {
	case <-d.out.ready:
	case <-d.exited:
		t.Fatalf("serve exited early: %v\n%s", d.err, d.output())
	case <-time.After(startBound):
		t.Fatalf("serve did not start within %v:\n%s", startBound, d.output())
	}
	b, err := os.ReadFile(control.AddrPath(db))
	require.NoError(t, err)
	token, err := control.ReadToken(control.TokenPath(db))
	require.NoError(t, err)
	d.client = &control.Client{Base: "http://" + strings.TrimSpace(string(b)), Token: token}
	return d
}

// startServe starts serve and returns at once; the process is killed when
// the test ends if it still runs.
func startServe(t *testing.T, db string, extra ...string) *daemon {
	t.Helper()
	args := append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(binary(t), args...)
	d := &daemon{cmd: cmd, db: db, out: newWatchedOutput(servingLine), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.out, d.out
	require.NoError(t, cmd.Start())
	go func() { d.err = cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		select {
		case <-d.exited:
		default:
			cmd.Process.Kill()
			<-d.exited
		}
	})
	return d
}

// wait waits for the process to exit (within startBound) and returns its
// exit code.
func (d *daemon) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-d.exited:
	case <-time.After(startBound):
		t.Fatalf("serve did not exit within %v:\n%s", startBound, d.output())
	}
	if ee, ok := d.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	require.NoError(t, d.err)
	return 0
}

func (d *daemon) output() string { return d.out.String() }

// watchedOutput collects a process's output and closes ready when it
// first contains a marker.
type watchedOutput struct {
	marker []byte
	ready  chan struct{}
	mu     struct {
		sync.Mutex
		buf  bytes.Buffer
		seen bool
	}
}

func newWatchedOutput(marker string) *watchedOutput {
	return &watchedOutput{marker: []byte(marker), ready: make(chan struct{})}
}

func (w *watchedOutput) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.mu.buf.Write(p)
	if !w.mu.seen && bytes.Contains(w.mu.buf.Bytes(), w.marker) {
		w.mu.seen = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *watchedOutput) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mu.buf.String()
}
