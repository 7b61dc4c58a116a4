package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMain runs a kernel process when the test binary is started again
// as one (tell starts os.Executable, and here that is this binary).
func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(child(context.Background(), role, os.Getenv(dbEnv), os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

func runStory(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// The story's facts hold: alice's deposits 1..N are in the bank's ledger
// once each and in order, the balance is their sum (computed here), every
// deposit was answered; the bank came back from SIGKILL holding a prefix
// of them (what it had committed), which is at least the two answered
// before the burst; it was a new process with the same key on a new
// port; the killed process is gone.
func TestRemoteStory(t *testing.T) {
	const n = 6
	code, out, errOut := runStory(t, "--deposits", strconv.Itoa(n))
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	t.Log(out)
	find := func(re string) []string {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(out)
		require.NotNil(t, m, "no %q in:\n%s", re, out)
		return m[1:]
	}
	atoi := func(s string) int {
		v, err := strconv.Atoi(s)
		require.NoError(t, err)
		return v
	}
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, strconv.Itoa(i))
	}
	facts := find(`sent (\d+) deposits, (\d+) answered; the ledger holds (\d+), in order: \[([\d ]*)\]`)
	require.Equal(t, []string{strconv.Itoa(n), strconv.Itoa(n), strconv.Itoa(n)}, facts[:3])
	require.Equal(t, want, strings.Fields(facts[3]), "each deposit once, in order")
	sum := n * (n + 1) / 2
	require.Equal(t, []string{strconv.Itoa(sum), strconv.Itoa(sum)}, find(`balance (\d+); the deposits sent add up to (\d+)`))
	var early []string
	for _, m := range regexp.MustCompile(`answered: balance (\d+)`).FindAllStringSubmatch(out, -1) {
		early = append(early, m[1])
	}
	require.Equal(t, []string{"1", "3"}, early, "the first deposits answered with the running totals")

	back := find(`its ledger holds (\d+) deposits, balance (\d+)`)
	k, b := atoi(back[0]), atoi(back[1])
	require.GreaterOrEqual(t, k, 2, "what was answered before the kill survived it")
	require.Less(t, k, n, "the deposits sent while the bank was down were not in it")
	require.Equal(t, k*(k+1)/2, b, "what survived is a prefix of the deposits, each once")
	require.Greater(t, atoi(find(`alice's outbox holds (\d+) messages`)[0]), 0)

	pids := regexp.MustCompile(`pid (\d+)`).FindAllStringSubmatch(out, -1)
	require.Len(t, pids, 4, "bank, alice, the kill, the restart")
	require.Equal(t, pids[0][1], pids[2][1], "the bank was killed")
	require.NotEqual(t, pids[2][1], pids[3][1], "and started as a new process")
	require.Equal(t, syscall.ESRCH, syscall.Kill(atoi(pids[2][1]), 0), "the killed kernel is gone")
	addrs := regexp.MustCompile(`(?m)^bank:  pid \d+, at (\S+),|the bank resumes bank\.db: pid \d+, at (\S+),`).FindAllStringSubmatch(out, -1)
	require.Len(t, addrs, 2)
	require.NotEqual(t, addrs[0][1], addrs[1][2], "a new port")
	require.Contains(t, out, "Nothing lost, nothing doubled: 6 deposits, each once, in order.")
}

func TestRemoteUsage(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		code    int
		wantErr string
	}{
		{[]string{"--help"}, 0, "-deposits"},
		{[]string{"--deposits", "2"}, 2, "--deposits 2: want 3 or more"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--bogus"}, 2, "-bogus"},
	} {
		code, out, errOut := runStory(t, tt.args...)
		require.Equal(t, tt.code, code, errOut)
		require.Contains(t, errOut, tt.wantErr)
		require.Empty(t, out)
	}
}

// At the deadline the story fails, saying why.
func TestRemoteDeadline(t *testing.T) {
	code, _, errOut := runStory(t, "--deadline", "200ms")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "context deadline exceeded")
}
