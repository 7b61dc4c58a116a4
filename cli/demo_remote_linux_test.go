package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// demo remote tells its story's facts, and they are true: each client's
// deposits (alice i, bob 10 × i, for i = 1..N) were all acknowledged
// and are in the bank's ledger once each, the balance is their sum,
// computed here; the answers of the first deposits are the running
// totals; the bank was killed in the middle (its process is gone, its
// clients' outboxes held what it had not acknowledged) and came back
// over its database with the same key on a new port, holding at least
// what it had before the burst and at most the burst's end; and when the
// command returns, no process it started is left.
func TestDemoRemoteTellsTheTruth(t *testing.T) {
	const n = 6
	code, out, errOut := runCLI(t, "demo", "remote", "--deposits", strconv.Itoa(n), "--deadline", "90s")
	require.Equal(t, ExitOK, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	t.Log(out)
	num := func(re string) []int64 {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(out)
		require.NotNil(t, m, "no %q in:\n%s", re, out)
		var ns []int64
		for _, s := range m[1:] {
			v, err := strconv.ParseInt(s, 10, 64)
			require.NoError(t, err)
			ns = append(ns, v)
		}
		return ns
	}
	want := int64(11 * n * (n + 1) / 2) // alice 1..n, bob 10..10n
	facts := num(`deposits sent: (\d+); acknowledged: (\d+); in the ledger: (\d+); taken twice: (\d+)`)
	require.Equal(t, []int64{2 * n, 2 * n, 2 * n, 0}, facts)
	bal := num(`balance before the kill: (\d+); when the bank came back: (\d+); now: (\d+); the deposits sent add up to (\d+)`)
	require.Equal(t, int64(1+10+2+20), bal[0], "the ledger after deposits 1 and 2 of each")
	require.Equal(t, []int64{want, want}, bal[2:], "the balance is the sum of every deposit")
	require.GreaterOrEqual(t, bal[1], bal[0], "nothing committed before the kill was lost")
	require.Less(t, bal[1], want, "the deposits sent while the bank was down were not in it when it came back")
	answers := regexp.MustCompile(`(?m)^\S+ → bank: deposit #\d+ of \d+; answered: balance (\d+)$`).FindAllStringSubmatch(out, -1)
	require.Len(t, answers, 4)
	for i, b := range []string{"1", "11", "13", "33"} {
		require.Equal(t, b, answers[i][1], "the first deposits are answered with the running totals")
	}
	for _, who := range []string{"alice", "bob"} {
		pending := num(who + `'s outbox holds (\d+) messages the bank has not acknowledged`)[0]
		require.Greater(t, pending, int64(0), "%s's deposits waited while the bank was down", who)
		require.Regexp(t, who+`: sent \d+ deposits, \d+ acknowledged; the ledger has \d+ of `+who+`'s, numbered 1 to `+strconv.Itoa(n)+`\n`, out)
	}
	require.Regexp(t, `the 12 answers are 12 distinct balances, the highest `+strconv.FormatInt(want, 10), out)

	killed := num(`SIGKILL to the bank's kernel \(pid (\d+)\)`)[0]
	again := num(`the bank's kernel resumes bank\.db: pid (\d+)`)[0]
	require.NotEqual(t, killed, again, "a new process")
	peers := regexp.MustCompile(`peer id ([0-9a-f]{12})…`).FindAllStringSubmatch(out, -1)
	require.Equal(t, peers[0][1], peers[len(peers)-1][1], "the restarted bank has the bank's key")
	addrs := regexp.MustCompile(`(?m)^bank  kernel: pid \d+, at (\S+),|now at (\S+),`).FindAllStringSubmatch(out, -1)
	require.Len(t, addrs, 2)
	require.NotEqual(t, addrs[0][1], addrs[1][2], "on a new port")

	var pids []int
	for _, m := range regexp.MustCompile(`pid (\d+)`).FindAllStringSubmatch(out, -1) {
		p, _ := strconv.Atoi(m[1])
		pids = append(pids, p)
	}
	require.Len(t, pids, 5, "bank, alice, bob, the kill, the restart")
	for _, p := range pids {
		requireGone(t, p)
	}
	require.Empty(t, children(t), "every process the demo started is gone")
}

// At its deadline the demo fails, saying so, and leaves no process.
func TestDemoRemoteDeadlineKillsEveryProcess(t *testing.T) {
	code, _, errOut := runCLI(t, "demo", "remote", "--deadline", "300ms")
	require.Equal(t, ExitFailure, code)
	require.Contains(t, errOut, "the demo did not finish within --deadline 300ms")
	require.Empty(t, children(t), "every process the demo started is gone")
}

func TestDemoRemoteRefusesBadFlags(t *testing.T) {
	for _, tt := range []struct{ args, wantErr string }{
		{"--deposits 2", "--deposits 2: want 3 or more"},
		{"--deadline 0s", "--deadline 0s: want a positive duration"},
		{"extra", `unexpected argument "extra"`},
	} {
		code, out, errOut := runCLI(t, append([]string{"demo", "remote"}, strings.Fields(tt.args)...)...)
		require.Equal(t, ExitUsage, code, errOut)
		require.Contains(t, errOut, tt.wantErr)
		require.Empty(t, out)
	}
}

// requireGone checks that no process pid exists (or only a zombie's
// entry, which holds nothing).
func requireGone(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	require.Equal(t, "Z", fields[0], "process %d is still running", pid)
}

// children lists this process's live children (not zombies).
func children(t *testing.T) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	require.NoError(t, err)
	var kids []string
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue // gone since the glob
		}
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(os.Getpid()) && f[0] != "Z" {
			kids = append(kids, string(b[:i+1]))
		}
	}
	return kids
}
