package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/vat"
)

// bench refuses bad flags and values with a usage error naming them,
// before anything is measured.
func TestBenchRefusesBadFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"bench"}, "missing arguments"},
		{[]string{"bench", "nope"}, `unknown workload "nope" (want one of pingpong, fanout, external, pipeline, manyvats, bigstore, bigcrank, js)`},
		{[]string{"bench", "pingpong", "--n", "0"}, "--n 0: want a positive number"},
		{[]string{"bench", "pingpong", "--n", "many"}, `invalid value "many" for flag -n`},
		{[]string{"bench", "pingpong", "--reps", "-1"}, "--reps -1: want a positive number"},
		{[]string{"bench", "pingpong", "--warmup", "-5"}, "--warmup -5: want 0 or more"},
		{[]string{"bench", "pipeline", "--k", "0"}, "--k 0: want a positive number"},
		{[]string{"bench", "manyvats", "--vats", "0"}, "--vats 0: want a positive number"},
		{[]string{"bench", "bigstore", "--objects", "0"}, "--objects 0: want a positive number"},
		{[]string{"bench", "pingpong", "--store", "disk"}, `--store "disk": want memory or file`},
		{[]string{"bench", "pingpong", "--commit", "often"}, `--commit "often": want durable or group`},
		{[]string{"bench", "pingpong", "--floor-time", "0s"}, "--floor-time 0s: want a positive duration"},
		{[]string{"bench", "pingpong", "--bogus"}, "-bogus"},
		{[]string{"bench", "pingpong", "--telemetry", "off,loud"}, `--telemetry "off,loud": "loud" is not one of off, metrics, traces, both`},
		{[]string{"bench", "pingpong", "--telemetry", "off,off"}, `--telemetry "off,off": off is named twice`},
		{[]string{"bench", "pingpong", "--trace-sample", "0"}, "--trace-sample 0: want a fraction in (0, 1]"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			require.Equal(t, ExitUsage, code, "stdout %q stderr %q", out, errOut)
			require.Contains(t, errOut, tt.wantErr)
			require.Empty(t, out, "nothing was measured")
		})
	}
}

// bench --help lists every workload with what it does.
func TestBenchHelp(t *testing.T) {
	code, _, errOut := runCLI(t, "bench", "--help")
	require.Equal(t, ExitOK, code)
	for _, w := range []string{"pingpong", "fanout", "external", "pipeline", "manyvats", "bigstore", "bigcrank", "js"} {
		require.Regexp(t, `(?m)^  `+w+` +\S`, errOut)
	}
	require.Contains(t, errOut, "--objects int")
}

// --json prints one line a repetition and one of medians, for each
// workload named, each line with every field; the ratios are to floors
// measured in the same run.
func TestBenchJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "pingpong", "manyvats", "--n", "8", "--reps", "2", "--warmup", "2",
		"--vats", "3", "--store", "file", "--commit", "group", "--floor-time", "10ms", "--json")
	require.Equal(t, ExitOK, code, errOut)
	require.Empty(t, errOut, "stderr is not a terminal: no progress line")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 6, "2 repetitions and a median, for each of 2 workloads")
	var floors map[string]any
	for i, line := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		for _, k := range []string{"workload", "rep", "params", "messages", "cranks", "wall_ms", "messages_per_s",
			"cranks_per_s", "crank_p50_us", "crank_p99_us", "crank_max_us", "allocs_per_crank", "bytes_per_crank",
			"live_heap_before_bytes", "live_heap_after_bytes", "peak_rss_bytes", "startup_ms", "floors", "ratios"} {
			require.Contains(t, m, k, line)
		}
		wantWorkload := []string{"pingpong", "manyvats"}[i/3]
		require.Equal(t, wantWorkload, m["workload"])
		params := m["params"].(map[string]any)
		require.Equal(t, "file", params["store"])
		require.Equal(t, "group", params["commit"])
		require.Equal(t, 8.0, params["n"])
		if wantWorkload == "manyvats" {
			require.Equal(t, 3.0, params["vats"])
		}
		require.Greater(t, m["cranks"].(float64), 0.0)
		require.LessOrEqual(t, m["crank_p50_us"].(float64), m["crank_p99_us"].(float64))
		require.LessOrEqual(t, m["crank_p99_us"].(float64), m["crank_max_us"].(float64))
		require.Greater(t, m["ratios"].(map[string]any)["message_vs_actor_rr"].(float64), 0.0)
		if i%3 == 2 {
			require.Equal(t, true, m["median"], line)
			require.Equal(t, 0.0, m["rep"])
		} else {
			require.Equal(t, float64(i%3+1), m["rep"])
		}
		// One floor measurement for the whole run.
		if floors == nil {
			floors = m["floors"].(map[string]any)
		}
		require.Equal(t, floors, m["floors"])
	}
	require.Greater(t, floors["actor_rr_us"].(float64), 0.0)
	require.Greater(t, floors["sqlite_tx_us"].(float64), 0.0)
}

// The default output is a table a person reads: a header, a row a
// repetition and a median row, then the floors.
func TestBenchTable(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "external", "--n", "5", "--reps", "3", "--warmup", "1", "--floor-time", "10ms")
	require.Equal(t, ExitOK, code, errOut)
	lines := strings.Split(out, "\n")
	require.Regexp(t, `^ *workload +rep +params +wall ms +msgs/s +cranks/s +p50 µs +p99 µs +max µs`, lines[0])
	for i, rep := range []string{"1", "2", "3", "median"} {
		require.Regexp(t, `^ *external +`+rep+` +n=5 memory durable +\d`, lines[1+i])
	}
	require.Contains(t, out, "floors (this process): protoactor request/response ")
	require.NotContains(t, out, "{", "no JSON without --json")
}

// --telemetry with several configurations runs each in turn, gives each
// its median row, and prints the cost of each against the first; --json
// ends with one cost line each.
func TestBenchTelemetry(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "external", "--n", "5", "--reps", "2", "--warmup", "1", "--floor-time", "10ms",
		"--telemetry", "off,metrics,both", "--trace-sample", "0.5")
	require.Equal(t, ExitOK, code, errOut)
	require.Regexp(t, `(?m)^ *external +median +n=5 memory durable +\d`, out)
	require.Regexp(t, `(?m)^ *external +median +n=5 memory durable metrics +\d`, out)
	require.Regexp(t, `(?m)^ *external +median +n=5 memory durable both\(0.5\) +\d`, out)
	require.Contains(t, out, "telemetry against off: the median over 2 repetitions")
	require.Regexp(t, `(?m)^ *external +metrics +\d+ +\d+\.\d{3}$`, out)
	require.Regexp(t, `(?m)^ *external +both +\d+ +\d+\.\d{3}$`, out)

	code, out, errOut = runCLI(t, "bench", "external", "--n", "5", "--reps", "1", "--floor-time", "10ms", "--telemetry", "off,traces", "--json")
	require.Equal(t, ExitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 5, "a repetition and a median for each of 2 configurations, then a cost")
	var cost map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[4]), &cost))
	require.Equal(t, true, cost["cost"])
	require.Equal(t, "traces", cost["telemetry"])
	require.Equal(t, "off", cost["against"])
	require.Greater(t, cost["crank_time_vs_against"].(float64), 0.0)
}

// On a terminal, bench draws a progress line on stderr while it runs
// and clears it before the table. (The floors alone take longer than a
// frame, so a line is drawn.)
func TestBenchProgressOnATerminal(t *testing.T) {
	var out bytes.Buffer
	var errOut syncBuf
	e := &env{name: DefaultName, reg: vat.NewRegistry(), stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		getenv: func(string) string { return "" }, isTerminal: true}
	err := runBench(context.Background(), e, []string{"pingpong", "--n", "50", "--reps", "1", "--floor-time", "400ms"})
	require.NoError(t, err)
	require.Regexp(t, `\r\x1b\[K\d+ cranks, \d+ cranks/s`, errOut.String())
	require.True(t, strings.HasSuffix(errOut.String(), "\r\x1b[K"), "the line is cleared at the end: %q", errOut.String())
	require.Contains(t, out.String(), "pingpong")
}

// The js workload without Node fails at once with jsvat's error, which
// says what to install, and the flag that names the binary.
func TestBenchJSWithoutNode(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "js", "--node", "/no/such/node", "--n", "5")
	require.Equal(t, ExitFailure, code)
	require.Empty(t, out)
	require.Contains(t, errOut, "kernel-actors bench: the js workload: jsvat: Node.js is not available")
	require.Contains(t, errOut, "--node PATH")
}
