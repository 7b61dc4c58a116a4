//go:build jsvat

package jsvat

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A worker is hostile until proven otherwise: whatever it writes that is
// not the protocol fails its delivery, kills it, and reaches the kernel
// as nothing but the vat's own fault. The kernel's syscaller (here the
// fake one) never sees a malformed syscall.
func TestHostileWorker(t *testing.T) {
	tests := []struct {
		mode    string
		want    error
		message string
		// syscalls the fake kernel may see before the failure
		before int
	}{
		{"garbage", ErrProtocol, "not a JSON-RPC message", 0},
		{"oversize", ErrProtocol, "a frame of more than 4096 bytes", 0},
		{"exit", ErrWorkerExited, "exit status 7", 1},
		{"badsyscall", ErrProtocol, "target: want a string", 0},
		{"nullbody", ErrProtocol, "data.body: want a string", 0},
		{"vatstore", ErrProtocol, "vatstoreSet does not cross the wire", 0},
		{"wrongid", ErrProtocol, "a response to request", 0},
		{"request", ErrProtocol, "the kernel takes only notifications and responses", 0},
		{"invalidutf8", ErrProtocol, "not valid UTF-8", 0},
		{"badcheckpoint", ErrProtocol, "checkpoint sets: entry 0", 0},
		{"dupcheckpoint", ErrProtocol, `checkpoint names key "k" twice`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			rt := newRuntime(t, Options{Command: []string{"node", testdata(t, "hostile-worker.mjs"), tt.mode}, MaxFrame: 4096})
			k := newFakeKernel()
			v := rt.NewVat(VatSpec{ID: "v1", BundleSpec: testdata(t, "echo.js")})
			defer v.Stop()
			require.NoError(t, v.Deliver(startVat(), k))
			pids := rt.PIDs()
			require.Len(t, pids, 1)
			err := v.Deliver(message(t, "o+0", "p-1", "hello", "x"), k)
			require.ErrorIs(t, err, tt.want)
			require.ErrorContains(t, err, tt.message)
			require.Len(t, k.take(), tt.before)
			require.True(t, pidGone(pids[0]), "the hostile worker is killed at once")
			require.Empty(t, k.store, "no checkpoint was applied")
		})
	}
}

// Between deliveries the worker may say nothing: a syscall then, or its
// death, fails the next delivery (and a ping).
func TestHostileWorkerBetweenDeliveries(t *testing.T) {
	for _, tt := range []struct{ mode, message string }{
		{"idle-syscall", "syscall resolve between deliveries"},
		{"idle-exit", "exit status 9"},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			rt := newRuntime(t, Options{Command: []string{"node", testdata(t, "hostile-worker.mjs"), tt.mode}})
			k := newFakeKernel()
			v := rt.NewVat(VatSpec{ID: "v1", BundleSpec: testdata(t, "echo.js")})
			defer v.Stop()
			require.NoError(t, v.Deliver(startVat(), k))
			p := v.(*jsVat).proc()
			eventually(t, p.pending, "the worker's idle frame arrives")
			err := v.Deliver(message(t, "o+0", "p-1", "hello", "x"), k)
			require.ErrorContains(t, err, tt.message)
			require.Empty(t, k.take(), "the idle syscall never reached the kernel")
			require.ErrorContains(t, v.(*jsVat).Ping(), tt.message, "and a ping says so too")
		})
	}
}

// Log lines between deliveries are allowed: they reach the vat's log,
// and the next delivery goes on. (The kernel once read one of them, then
// waited for a frame that would come only after a request it had not yet
// written.)
func TestLogsBetweenDeliveries(t *testing.T) {
	rt := newRuntime(t, Options{Command: []string{"node", testdata(t, "hostile-worker.mjs"), "idle-logs"}})
	k := newFakeKernel()
	logs := &logSink{}
	v := rt.NewVat(VatSpec{ID: "v1", BundleSpec: testdata(t, "echo.js"), Logger: logs.logger()})
	defer v.Stop()
	require.NoError(t, v.Deliver(startVat(), k))
	p := v.(*jsVat).proc()
	eventually(t, p.pending, "the worker's idle lines arrive")
	done := make(chan error, 1)
	go func() { done <- v.Deliver(message(t, "o+0", "p-1", "hello", "x"), k) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		v.Stop() // ends the stuck read, so the test fails rather than hangs
		t.Fatal("the delivery after the idle log lines never finished")
	}
	for i := 1; i <= 3; i++ {
		require.Contains(t, logs.text(), fmt.Sprintf("idle line %d", i))
	}
	require.NoError(t, v.(*jsVat).Ping(), "the worker is fine")
}
