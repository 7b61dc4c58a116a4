package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/demos/demotest"
	"github.com/ocapgo/kernel-actors/vat"
)

func TestDemoRegistersItsBundles(t *testing.T) {
	d := Demo()
	require.Equal(t, "caretaker", d.Name)
	require.NotEmpty(t, d.Summary)
	reg := vat.NewRegistry()
	d.Register(reg)
	for _, name := range []string{"caretaker/alice", "caretaker/bob"} {
		_, err := reg.Lookup(name)
		require.NoError(t, err, name)
	}
}

func TestRunTellsTheStory(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, Demo().Run(context.Background(), demos.Options{Out: &out}))
		s := out.String()
		// Before any revocation, values flow through the forwarder.
		before := []string{
			`caretaker/bob → notes: add("buy milk") → 1`,
			`caretaker/bob → notes: list() → ["buy milk" "call mum"]`,
		}
		// (a) Alice's code refuses; the kernel does not know.
		inVat := []string{
			`caretaker/bob → notes: add("water plants") → rejected: revoked`,
			"→ rejected by Alice's code: revoked (a *kernel.RejectionError, not a kernel code)",
			"host: IsRevoked(carol's forwarder) = false",
		}
		// (b) The kernel refuses, and Bob and the host both see its code.
		inKernel := []string{
			`caretaker/bob → notes-2: add("water plants") → 3`,
			"host: Revoke(carol's second forwarder)",
			"host: IsRevoked(carol's second forwarder) = true",
			`caretaker/bob → notes-2: add("feed the cat") → rejected: [KERNEL:OBJECT_REVOKED] Target object has been revoked`,
			"Bob reports: [KERNEL:OBJECT_REVOKED]",
			"errors.Is(err, kernel.ErrObjectRevoked) = true",
		}
		after := []string{"host → caretaker/alice: notes()\n  → [\"buy milk\" \"call mum\" \"water plants\"]"}
		last := -1
		for _, part := range [][]string{before, inVat, inKernel, after} {
			for _, want := range part {
				i := strings.Index(s, want)
				require.GreaterOrEqual(t, i, 0, "missing %q in:\n%s", want, s)
				require.Greater(t, i, last, "%q is out of order", want)
				last = i
			}
		}
		require.NotContains(t, s, "feed the cat\") → 4", "nothing gets through after revocation")
	})
}

// A file that already holds vats is refused, not resumed: the story would
// run on top of the old one.
func TestRunRefusesAUsedDatabase(t *testing.T) {
	demotest.Bubble(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "caretaker.db")
		require.NoError(t, Demo().Run(ctx, demos.Options{DBPath: path}))
		var out bytes.Buffer
		err := Demo().Run(ctx, demos.Options{DBPath: path, Out: &out})
		require.ErrorIs(t, err, demos.ErrNotFresh)
		require.ErrorContains(t, err, path+" holds 2")
		require.Empty(t, out.String(), "nothing is told of a story that did not run")
	})
}
