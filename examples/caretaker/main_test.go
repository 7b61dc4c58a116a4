package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/demos/demotest"
)

func TestCaretakerTellsTheStory(t *testing.T) {
	code, out, errOut := demotest.RunCommand(t, run)
	require.Equal(t, 0, code, errOut)
	require.Empty(t, errOut)
	for _, want := range []string{
		`caretaker/bob → notes: list() → ["buy milk" "call mum"]`,
		`caretaker/bob → notes: add("water plants") → rejected: revoked`,
		"host: IsRevoked(carol's forwarder) = false",
		"host: IsRevoked(carol's second forwarder) = true",
		"Bob reports: [KERNEL:OBJECT_REVOKED] Target object has been revoked",
		"errors.Is(err, kernel.ErrObjectRevoked) = true",
		"host → caretaker/alice: notes()\n  → [\"buy milk\" \"call mum\" \"water plants\"]",
	} {
		require.Contains(t, out, want)
	}
	require.Less(t, strings.Index(out, "rejected: revoked"), strings.Index(out, "OBJECT_REVOKED"))
}

func TestCaretakerVerboseLogsToStderr(t *testing.T) {
	code, out, errOut := demotest.RunCommand(t, run, "-v")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "errors.Is(err, kernel.ErrObjectRevoked) = true")
	require.Contains(t, errOut, "DBG", "the kernel's debug lines")
}

func TestCaretakerOnAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caretaker.db")
	code, out, errOut := demotest.RunCommand(t, run, "--db", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "OBJECT_REVOKED")

	code, out, errOut = demotest.RunCommand(t, run, "--db", path)
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, errOut, "caretaker: the database already holds vats; give a new --db path")
}

func TestCaretakerUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"--help"}, 0, "-db"},
		{[]string{"--bogus"}, 2, "-bogus"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--db", "/no/such/dir/caretaker.db"}, 1, "/no/such/dir"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errOut := demotest.RunCommand(t, run, tt.args...)
			require.Equal(t, tt.wantCode, code, "stderr %q", errOut)
			require.Contains(t, errOut, tt.wantErr)
		})
	}
}
