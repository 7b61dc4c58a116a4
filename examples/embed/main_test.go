package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/demos/demotest"
)

// The story through the command: orders through the kernel, the kernel's
// actors in the app's system and then gone, the app's actors answering
// after Stop; and nothing left running afterwards.
func TestRun(t *testing.T) {
	code, got, errs := demotest.RunCommand(t, run)
	require.Equal(t, 0, code, errs)
	for _, want := range []string{
		"(same system: true)",
		"kernel$1, kernel$1/v1.0.1, kernel$1/v2.0.2, ledger\n",
		"  order 1: 3 widget reserved for $7.50; 7 left\n",
		"  order 3: 4 gizmo reserved for $3.00; 1 left\n",
		"refused by the inventory vat's own error: rejected: Error: only 1 gadget left",
		"The kernel's actor and its vats' actors are gone; the app's are not:\n  deadletter, desk, eventstream, ledger\n",
		`The desk still answers: an order now is refused with "actors: kernel stopped".`,
		"The ledger still answers: 3 orders, $22.50.",
	} {
		require.Contains(t, got, want)
	}
	require.Empty(t, errs)
}

// On a file, and with the logs on: the kernel's and the app's protoactor
// logs arrive on stderr as JSON lines.
func TestRunOnAFileWithLogs(t *testing.T) {
	var out, errs bytes.Buffer
	path := filepath.Join(t.TempDir(), "embed.db")
	require.Equal(t, 0, run(context.Background(), []string{"--db", path, "--log"}, &out, &errs), errs.String())
	require.Contains(t, out.String(), "The ledger still answers: 3 orders, $22.50.")
	require.Contains(t, errs.String(), `"component":"kernel"`)
	require.Contains(t, errs.String(), `"component":"app"`, "the app's actor system logs through the given logger")
	for _, line := range strings.Split(strings.TrimSpace(errs.String()), "\n") {
		require.True(t, strings.HasPrefix(line, "{") && strings.HasSuffix(line, "}"), line)
	}
}

func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"--nope"}, 2, "flag provided but not defined"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--help"}, 0, "Usage: embed"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errs bytes.Buffer
			require.Equal(t, tt.wantCode, run(context.Background(), tt.args, &out, &errs))
			require.Contains(t, errs.String(), tt.wantErr)
		})
	}
}
