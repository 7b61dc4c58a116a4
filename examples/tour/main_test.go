package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The program tells the whole story in memory, with nothing on stderr.
func TestRunInMemory(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), nil, &stdout, &stderr), stderr.String())
	require.Empty(t, stderr.String())
	for _, want := range []string{
		"kernel-actors tour, in memory.",
		`the host got: "hello alice, from bob"`,
		"deposit(50) answered alice's balance: 50",
		"bob's paydays in his baggage: 0 (the write is gone)",
		"k.PingVat(bob): incarnation 1 (it was 0)",
		"then carol.save(20): [KERNEL:OBJECT_DELETED]",
		"account.deposit(5): [KERNEL:OBJECT_REVOKED]",
		"The bank's balances: alice 50, bob 20, carol 0.",
		"cranks in all",
	} {
		require.Contains(t, stdout.String(), want)
	}
}

// --db keeps the state in a file; the file must be new, and a second run
// on it fails (exit 1) saying so.
func TestRunOnFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tour.db")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"--db", path}, &stdout, &stderr), stderr.String())
	require.Contains(t, stdout.String(), "kernel-actors tour, in "+path+".")
	require.FileExists(t, path)

	stdout.Reset()
	require.Equal(t, 1, run(context.Background(), []string{"--db", path}, &stdout, &stderr))
	require.Empty(t, stdout.String())
	require.Contains(t, stderr.String(), "the database already holds vats; give a new --db path")
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantInErr string
	}{
		{"help", []string{"--help"}, 0, "Usage: tour [--db PATH]"},
		{"unknown flag", []string{"--nope"}, 2, "flag provided but not defined: -nope"},
		{"stray argument", []string{"extra"}, 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, tt.wantCode, run(context.Background(), tt.args, &stdout, &stderr))
			require.Empty(t, stdout.String(), "no tour")
			require.Contains(t, stderr.String(), tt.wantInErr)
		})
	}
}
