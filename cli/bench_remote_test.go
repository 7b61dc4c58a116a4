package cli

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMain runs a child of bench remote or demo remote when the test
// binary is started again as one (startPeer starts os.Executable with
// the hidden command, and here that is this binary), and the tests
// otherwise.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == remotePeerCommand {
		os.Exit(Main(context.Background(), nil, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// bench remote --json prints one line a mode and round, then one median
// a mode: the bare floor and the kernel under each commit policy, each
// round's figure its round trips over its time, each median the median of
// its rounds, and the ratio the median over the bare median of the run.
// The kernels answered every ping with its own number (the child checks
// it) and both auditors were green (or the command fails).
func TestBenchRemoteJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "remote", "--n", "20", "--rounds", "3", "--warmup", "5", "--window", "2", "--json")
	require.Equal(t, ExitOK, code, errOut)
	require.Empty(t, errOut, "stderr is not a terminal: no status line")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3*3+3, "3 modes × 3 rounds, and 3 medians")
	modes := []string{modeBare, modeDurable, modeGroup}
	rounds := map[string][]float64{}
	medians := map[string]map[string]any{}
	for i, line := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		for _, k := range []string{"bench", "mode", "round", "params", "round_trips", "round_trips_per_s", "us_per_round_trip"} {
			require.Contains(t, m, k, line)
		}
		require.Equal(t, "remote", m["bench"])
		require.Equal(t, 20.0, m["round_trips"])
		params := m["params"].(map[string]any)
		require.Equal(t, "file", params["store"])
		require.Equal(t, "2", params["window"])
		mode := m["mode"].(string)
		perS := m["round_trips_per_s"].(float64)
		require.Greater(t, perS, 0.0, line)
		if i < 9 {
			// Rounds come in order, each round every mode in turn.
			require.Equal(t, modes[i%3], mode, line)
			require.Equal(t, float64(i/3+1), m["round"], line)
			require.InDelta(t, 20/(m["wall_ms"].(float64)/1000), perS, perS*1e-6, "a round's figure is its round trips over its time")
			rounds[mode] = append(rounds[mode], perS)
			continue
		}
		require.Equal(t, true, m["median"], line)
		require.Equal(t, modes[i-9], mode)
		medians[mode] = m
	}
	bare := medians[modeBare]["round_trips_per_s"].(float64)
	for _, mode := range modes {
		m := medians[mode]
		require.InDelta(t, median(rounds[mode]), m["round_trips_per_s"], 1e-6, "%s: the median of its rounds", mode)
		var got []float64
		for _, r := range m["rounds_per_s"].([]any) {
			got = append(got, r.(float64))
		}
		require.Equal(t, rounds[mode], got, "%s: the median line lists the rounds", mode)
		require.InDelta(t, m["round_trips_per_s"].(float64)/bare, m["vs_bare"], 1e-9, "%s: the ratio is to the bare median of the same run", mode)
	}
	require.InDelta(t, 1.0, medians[modeBare]["vs_bare"], 1e-9)
}

// The default output is a table: a row a mode with its median, its ratio
// to the bare median and its rounds, then a line saying what was
// measured.
func TestBenchRemoteTable(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "remote", "--n", "10", "--rounds", "2", "--warmup", "0", "--store", "memory", "--commit", "group")
	require.Equal(t, ExitOK, code, errOut)
	lines := strings.Split(out, "\n")
	require.Regexp(t, `^ *mode +round trips/s +µs each +vs bare +rounds \(round trips/s\)`, lines[0])
	require.Regexp(t, `^ *bare protoactor-go +\d+ +\d+ +1\.00 +\d+ \d+ *$`, lines[1])
	require.Regexp(t, `^ *kernel, group commit +\d+ +\d+ +\d+\.\d\d +\d+ \d+ *$`, lines[2])
	require.Contains(t, out, "medians of 2 rounds of 10 round trips each (1 in flight at once), in one run; two processes a mode, on loopback; memory store")
	require.NotContains(t, out, "durable")
}

// Bad flags are refused with a usage error naming them, before any
// process starts.
func TestBenchRemoteRefusesBadFlags(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--n", "0"}, "--n 0: want a positive number"},
		{[]string{"--rounds", "0"}, "--rounds 0: want a positive number"},
		{[]string{"--window", "0"}, "--window 0: want a positive number"},
		{[]string{"--warmup", "-1"}, "--warmup -1: want 0 or more"},
		{[]string{"--store", "disk"}, `--store "disk": want memory or file`},
		{[]string{"--sync", "off"}, `--sync "off": want full or normal`},
		{[]string{"--commit", "often"}, `--commit "often": want durable, group or both (durable,group)`},
		{[]string{"--timeout", "0s"}, "--timeout 0s: want a positive duration"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"bench", "remote"}, tt.args...)...)
			require.Equal(t, ExitUsage, code, errOut)
			require.Contains(t, errOut, tt.wantErr)
			require.Empty(t, out)
		})
	}
}

// BenchmarkRemoteRoundTrip is bench remote's measure under go test: b.N
// cross-kernel round trips one after another between two kernel
// processes (file stores), for each commit policy, and after them b.N
// bare protoactor-go remote round trips between two other processes,
// reported beside it (bare_round_trips/s, vs_bare) so the ratio is of one
// run. For profiles, bench remote --cpuprofile DIR profiles each kernel
// process.
func BenchmarkRemoteRoundTrip(b *testing.B) {
	for _, commit := range []string{modeDurable, modeGroup} {
		b.Run(commit, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			var peers peerSet
			defer peers.killAll()
			f := remoteBenchFlags{store: "file", sync: "full", window: 1}
			k, err := startKernelPair(ctx, &peers, os.Stderr, commit, f, b.TempDir())
			require.NoError(b, err)
			bare, err := startBarePair(ctx, &peers, os.Stderr, f)
			require.NoError(b, err)
			for _, m := range []benchMode{k, bare} {
				_, err := m.trips(ctx, 50) // warm up
				require.NoError(b, err)
			}
			b.ResetTimer()
			ns, err := k.trips(ctx, b.N)
			b.StopTimer()
			require.NoError(b, err)
			bareNS, err := bare.trips(ctx, b.N)
			require.NoError(b, err)
			perS := float64(b.N) / (float64(ns) / 1e9)
			barePerS := float64(b.N) / (float64(bareNS) / 1e9)
			b.ReportMetric(perS, "round_trips/s")
			b.ReportMetric(barePerS, "bare_round_trips/s")
			b.ReportMetric(perS/barePerS, "vs_bare")
			require.NoError(b, k.audit(ctx))
		})
	}
}
