package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// runCLI runs the command in a synctest bubble and checks that it leaves
// no goroutine behind.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		ignore := goleak.IgnoreCurrent()
		var out, errOut bytes.Buffer
		code = run(context.Background(), args, &out, &errOut)
		stdout, stderr = out.String(), errOut.String()
		time.Sleep(time.Minute) // protoactor's dead-letter throttle runs out on the bubble's clock
		goleak.VerifyNone(t, ignore)
	})
	return code, stdout, stderr
}

func TestCaretakerTellsTheStory(t *testing.T) {
	code, out, errOut := runCLI(t)
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
	code, out, errOut := runCLI(t, "-v")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "errors.Is(err, kernel.ErrObjectRevoked) = true")
	require.Contains(t, errOut, "DBG", "the kernel's debug lines")
}

func TestCaretakerOnAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "caretaker.db")
	code, out, errOut := runCLI(t, "--db", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "OBJECT_REVOKED")

	code, out, errOut = runCLI(t, "--db", path)
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
			code, _, errOut := runCLI(t, tt.args...)
			require.Equal(t, tt.wantCode, code, "stderr %q", errOut)
			require.Contains(t, errOut, tt.wantErr)
		})
	}
}
