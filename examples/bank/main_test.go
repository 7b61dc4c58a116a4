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

func TestBankTellsTheStory(t *testing.T) {
	code, out, errOut := runCLI(t)
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
	code, out, errOut := runCLI(t, "-v")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Balances: alice 90, bob 10, mallory 5")
	require.Contains(t, errOut, "DBG", "the kernel's debug lines")
}

func TestBankOnAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bank.db")
	code, out, errOut := runCLI(t, "--db", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Balances: alice 90, bob 10, mallory 5")

	code, out, errOut = runCLI(t, "--db", path)
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
			code, _, errOut := runCLI(t, tt.args...)
			require.Equal(t, tt.wantCode, code, "stderr %q", errOut)
			require.Contains(t, errOut, tt.wantErr)
		})
	}
}
