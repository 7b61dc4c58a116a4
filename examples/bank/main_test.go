package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/demos/demotest"
)

func TestBankTellsTheStory(t *testing.T) {
	code, out, errOut := demotest.RunCommand(t, run)
	require.Equal(t, 0, code, errOut)
	require.Empty(t, errOut)
	for _, want := range []string{
		"host → bank/alice: pay(bank/bob, 10)",
		"bank/bob → bob's purse: deposit(10, payment) → bob's purse holds 10",
		"→ rejected: deposit: the source is not a purse of this mint",
		"→ rejected: deposit: insufficient funds: the source holds 5, not 1000",
		`→ rejected: TypeError: target "purse" has no method "makePurse"`,
		"Balances: alice 90, bob 10, mallory 5",
		"Total supply: 105 before, 105 after",
	} {
		require.Contains(t, out, want)
	}
}

func TestBankVerboseLogsToStderr(t *testing.T) {
	code, out, errOut := demotest.RunCommand(t, run, "-v")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Balances: alice 90, bob 10, mallory 5")
	require.Contains(t, errOut, "DBG", "the kernel's debug lines")
}

func TestBankOnAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bank.db")
	code, out, errOut := demotest.RunCommand(t, run, "--db", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Balances: alice 90, bob 10, mallory 5")

	code, out, errOut = demotest.RunCommand(t, run, "--db", path)
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, errOut, "bank: the database already holds vats; give a new --db path")
}

func TestBankUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"--help"}, 0, "-db"},
		{[]string{"--bogus"}, 2, "-bogus"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--db", "/no/such/dir/bank.db"}, 1, "/no/such/dir"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errOut := demotest.RunCommand(t, run, tt.args...)
			require.Equal(t, tt.wantCode, code, "stderr %q", errOut)
			require.Contains(t, errOut, tt.wantErr)
		})
	}
}
