package main

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos/demotest"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// world is an in-memory kernel running the demo's subcluster, stopped
// when the test ends.
type world struct {
	t          *testing.T
	k          *actors.Kernel
	alice, bob kernel.KRef
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	reg := vat.NewRegistry()
	register(reg)
	k, err := actors.Start(ctx, actors.Config{Registry: reg})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, k.Stop(ctx)) })
	res, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: bundleAlice}, "bob": {Bundle: bundleBob},
	}})
	require.NoError(t, err)
	return &world{t: t, k: k, alice: res.Roots["alice"], bob: res.Roots["bob"]}
}

func (w *world) call(target kernel.KRef, method string, args ...any) (any, error) {
	return w.k.QueueMessage(context.Background(), target, method, args...)
}

func (w *world) mustCall(target kernel.KRef, method string, args ...any) any {
	w.t.Helper()
	v, err := w.call(target, method, args...)
	require.NoError(w.t, err, method)
	return v
}

// share has Alice give Bob a caretaker under label and returns its halves.
func (w *world) share(label string) (forwarder, revoker kernel.KRef) {
	w.t.Helper()
	r := w.mustCall(w.alice, "share", w.bob, label).(map[string]any)
	return r[forwarderKey].(kernel.KRef), r[revokerKey].(kernel.KRef)
}

func rejection(t *testing.T, err error) *kernel.RejectionError {
	t.Helper()
	var re *kernel.RejectionError
	require.True(t, errors.As(err, &re), "want a vat's rejection, got %v", err)
	return re
}

// The forwarder relays every method, arguments and errors included,
// through its one catch-all entry, until its revoker is used; then it
// refuses with the vat's own error, which is no kernel code. Carol and
// other caretakers are untouched.
func TestCaretakerForwardsUntilRevoked(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		w := newWorld(t)
		fwd, rev := w.share("notes")

		require.Equal(t, int64(1), w.mustCall(fwd, "add", "x"))
		require.Equal(t, []any{"x"}, w.mustCall(fwd, "list"))
		_, err := w.call(fwd, "add", 5)
		require.Equal(t, "add: a note is a string, not 5", rejection(t, err).Message, "carol's own error comes back through the forwarder")
		_, err = w.call(fwd, "frob")
		re := rejection(t, err)
		require.Equal(t, "TypeError", re.Name)
		require.Equal(t, `carol has no method "frob"`, re.Message)

		report := w.mustCall(w.bob, "use", "notes", "y").(map[string]any)
		require.Equal(t, int64(2), report[countKey])
		require.Equal(t, []any{"x", "y"}, report[notesKey])
		require.NotContains(t, report, sawKey)

		require.Equal(t, "carol's forwarder is revoked", w.mustCall(rev, "revoke"))
		report = w.mustCall(w.bob, "use", "notes", "z").(map[string]any)
		require.Equal(t, msgRevoked, report[sawKey])
		require.NotContains(t, report, countKey)
		_, err = w.call(fwd, "list")
		require.Equal(t, msgRevoked, rejection(t, err).Message)
		require.NotErrorIs(t, err, kernel.ErrObjectRevoked, "a vat's revocation is not the kernel's")
		revoked, err := w.k.IsRevoked(context.Background(), fwd)
		require.NoError(t, err)
		require.False(t, revoked)

		require.Equal(t, []any{"x", "y"}, w.mustCall(w.alice, "notes"), "the refused note never reached carol")
		fwd2, _ := w.share("notes-2")
		require.Equal(t, int64(3), w.mustCall(fwd2, "add", "w"), "a new caretaker has its own switch")
	})
}

// After the host revokes a forwarder in the kernel, Bob's sends to it are
// refused before Alice's vat sees them: he gets an error whose message
// carries the kernel's code, and the host matches it with errors.Is.
func TestKernelRevocationReachesBob(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		w := newWorld(t)
		fwd, rev := w.share("notes")
		report := w.mustCall(w.bob, "use", "notes", "before").(map[string]any)
		require.Equal(t, int64(1), report[countKey])

		require.NoError(t, w.k.Revoke(ctx, fwd))
		report = w.mustCall(w.bob, "use", "notes", "after").(map[string]any)
		require.Equal(t, kernel.ErrObjectRevoked.Error(), report[sawKey])
		_, err := w.call(fwd, "list")
		require.ErrorIs(t, err, kernel.ErrObjectRevoked)

		require.Equal(t, []any{"before"}, w.mustCall(w.alice, "notes"), "the refused note never reached carol")
		require.Equal(t, "carol's forwarder is revoked", w.mustCall(rev, "revoke"), "Alice's vat lives on; only the forwarder is revoked")
	})
}
