package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/demos/demotest"
)

// childDB names the environment variable that makes the test binary the
// example itself, counting forever on the database it names (see TestMain).
const childDB = "SUPERVISED_EXAMPLE_COUNT_DB"

// TestMain runs `supervised --db $SUPERVISED_EXAMPLE_COUNT_DB
// --count-forever` when asked to: the child process the kill -9 test kills.
func TestMain(m *testing.M) {
	if path := os.Getenv(childDB); path != "" {
		os.Args = []string{os.Args[0], "--db", path, "--count-forever"}
		os.Exit(demos.Exec(run)) // as main does
	}
	os.Exit(m.Run())
}

// The whole story in memory, through the command.
func TestRun(t *testing.T) {
	code, out, errs := demotest.RunCommand(t, run)
	require.Equal(t, 0, code, errs)
	for _, want := range []string{
		"The caller gets an error at once: [KERNEL:VAT_FATAL:INTERNAL_ERROR]",
		"The tally is 3, not 4: the failed crank was rolled back",
		"incarnation 1 (the vat started as incarnation 0)",
		"restarted: restart policy",
		"terminated: failed 3 times within 1m0s; giving up",
		"poison #4 is refused, the vat being gone with its objects: [KERNEL:OBJECT_DELETED]",
		"serves on: work(6) = 36.",
		"incr -> 3\n",
	} {
		require.Contains(t, out, want)
	}
	require.Empty(t, errs)
}

// --log writes the kernel's logs to stderr, one JSON object a line; the
// restart decisions are among them.
func TestRunLogs(t *testing.T) {
	var out, errs bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"--log"}, &out, &errs))
	require.Contains(t, errs.String(), `"message":"vat failed; restarting it after a backoff"`)
	backoffs := 0
	for _, line := range strings.Split(strings.TrimSpace(errs.String()), "\n") {
		require.True(t, strings.HasPrefix(line, "{") && strings.HasSuffix(line, "}"), line)
		var entry struct {
			Message string `json:"message"`
			Backoff any    `json:"backoff"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &entry), line)
		if entry.Message != "vat failed; restarting it after a backoff" {
			continue
		}
		// With its unit: "10ms", not a bare 10.
		s, ok := entry.Backoff.(string)
		require.True(t, ok, "backoff %v is not a duration with its unit", entry.Backoff)
		d, err := time.ParseDuration(s)
		require.NoError(t, err)
		require.Positive(t, d)
		backoffs++
	}
	require.Positive(t, backoffs)
}

func TestUsage(t *testing.T) {
	for _, tt := range []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"--count-forever"}, 2, "--count-forever needs --db"},
		{[]string{"--nope"}, 2, "flag provided but not defined"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--help"}, 0, "supervised --db PATH --count-forever"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errs bytes.Buffer
			require.Equal(t, tt.wantCode, run(context.Background(), tt.args, &out, &errs))
			require.Contains(t, errs.String(), tt.wantErr)
		})
	}
}

// Two runs on one file: the second finds the first's counter.
func TestCountContinuesAcrossRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter.db")
	var first, second, errs bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"--db", path}, &first, &errs), errs.String())
	require.Contains(t, first.String(), "the count goes on from 3.")
	require.Equal(t, 0, run(context.Background(), []string{"--db", path}, &second, &errs), errs.String())
	require.Contains(t, second.String(), "its count is 3.\nincr -> 4\n")
}

// countChild starts the example counting forever on path, kills it with
// SIGKILL once it has printed killAt acknowledged values, and returns what
// it printed first ("counter at N") and every value it acknowledged, in
// order. Lines cut short by the kill (no newline) are not acknowledgements.
func countChild(t *testing.T, path string, killAt int) (start int64, acked []int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDB+"="+path)
	var errs bytes.Buffer
	cmd.Stderr = &errs
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	// However this ends, the child does not outlive the test; and a child
	// that hangs is killed after a generous minute, failing the test
	// below (it was not killed at killAt) instead of hanging it.
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	watchdog := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	defer watchdog.Stop()
	r := bufio.NewReader(out)
	start = -1
	killed := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break // EOF: the child is dead (or ended on its own)
		}
		var v int64
		switch {
		case strings.HasPrefix(line, "counter at "):
			_, serr := fmt.Sscanf(line, "counter at %d\n", &start)
			require.NoError(t, serr)
		case strings.HasPrefix(line, "count "):
			_, serr := fmt.Sscanf(line, "count %d\n", &v)
			require.NoError(t, serr)
			acked = append(acked, v)
		default:
			t.Fatalf("unexpected line from the child: %q", line)
		}
		// Keep reading after the kill: what the child printed before it
		// died is still in the pipe, and was acknowledged.
		if len(acked) == killAt && !killed {
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			killed = true
		}
	}
	werr := cmd.Wait()
	require.True(t, killed, "the child ended on its own: %v\n%s", werr, errs.String())
	require.GreaterOrEqual(t, start, int64(0), "the child never said where the counter was")
	for i, v := range acked {
		require.Equal(t, start+int64(i)+1, v, "the child counted on from %d one by one", start)
	}
	return start, acked
}

// kill -9 in the middle of counting, twice: each run resumes from the last
// value the previous one printed (acknowledged, so in the file) or from
// one more (the increment in flight, committed but not yet printed);
// never from less (an acknowledged increment lost) nor more (one counted
// twice).
func TestKillDashNine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter.db")
	start, acked := countChild(t, path, 10+rand.IntN(40))
	require.Equal(t, int64(0), start, "a new counter")
	last := acked[len(acked)-1]
	firstKill := last

	start, acked = countChild(t, path, 10+rand.IntN(40))
	require.GreaterOrEqual(t, start, last, "an acknowledged increment was lost")
	require.LessOrEqual(t, start, last+1, "more than the one increment in flight was counted")
	last = acked[len(acked)-1]

	// The demo itself, run on the file, finds the counter where the
	// second child left it.
	var out, errs bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"--db", path}, &out, &errs), errs.String())
	m := regexp.MustCompile(`its count is (\d+)\.\nincr -> (\d+)\n`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	found, _ := strconv.ParseInt(m[1], 10, 64)
	next, _ := strconv.ParseInt(m[2], 10, 64)
	require.GreaterOrEqual(t, found, last, "an acknowledged increment was lost")
	require.LessOrEqual(t, found, last+1, "more than the one increment in flight was counted")
	require.Equal(t, found+1, next)
	t.Logf("killed after %d, resumed at %d, killed after %d, resumed at %d", firstKill, start, last, found)
}
