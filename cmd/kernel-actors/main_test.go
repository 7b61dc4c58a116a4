package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDemoNarratesTheTour(t *testing.T) {
	code, out, errOut := runCLI(t, "demo")
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"a message to an unresolved promise waits on it",
		"balance() = 10",
		"bob failed; the crank was rolled back: [KERNEL:VAT_FATAL:INTERNAL_ERROR]",
		"bob was terminated",
		"bob's half-written store entry was rolled back with the crank.",
		"pingBob() was rejected: [KERNEL:OBJECT_DELETED]",
		"balance() was rejected: [KERNEL:OBJECT_REVOKED]",
		"Auditor: every reference count and table checks out.",
	} {
		require.Contains(t, out, want)
	}
	require.Less(t, strings.Index(out, "balance() = 10"), strings.Index(out, "bob was terminated"))
}

func TestDemoOnAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tour.db")
	code, _, errOut := runCLI(t, "demo", "--db", path)
	require.Equal(t, 0, code, errOut)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	code, _, errOut = runCLI(t, "demo", "--db", path)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "already holds a kernel")
}

func TestCLIUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
		wantOut  string
	}{
		{nil, 2, "Usage:", ""},
		{[]string{"help"}, 0, "", "Usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`, ""},
		{[]string{"demo", "--help"}, 0, "Usage: kernel-actors demo", ""},
		{[]string{"demo", "--bogus"}, 2, "-bogus", ""},
		{[]string{"demo", "extra"}, 2, `unexpected argument "extra"`, ""},
		{[]string{"demo", "--db", "/no/such/dir/k.db"}, 1, "/no/such/dir", ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			require.Equal(t, tt.wantCode, code, "stdout %q stderr %q", out, errOut)
			require.Contains(t, errOut, tt.wantErr)
			require.Contains(t, out, tt.wantOut)
		})
	}
}
