package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// serveScript starts serve in the background and calls clients at once,
// as a script (or the README's session) does, with no wait of its own in
// between; then it stops serve and lists what is left beside the
// database.
const serveScript = `
set -eu
ka=$1
"$ka" serve --db k.db --listen 127.0.0.1:0 >serve.out 2>&1 &
serve=$!
trap 'kill $serve 2>/dev/null || true' EXIT # a failing step must not leave serve running
"$ka" status --db k.db
printf 'bootstrap: counter\nvats:\n  counter: {bundle: std/counter}\n' | "$ka" launch --db k.db --config -
"$ka" send --db k.db ko1 incr 5
kill $serve
wait $serve
echo "left: $(ls | tr '\n' ' ')"
`

// A client started right after "serve &" waits for serve's readiness
// (PATH.addr, within its --timeout) instead of failing on a file not yet
// written; --config - reads the config from standard input; and at stop
// serve removes PATH.addr, PATH.token and PATH.pid, after which a client
// says no daemon runs.
func TestServeThenClientsAtOnceInAScript(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("bash", "-c", serveScript, "script", binary(t))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	serveOut, _ := os.ReadFile(filepath.Join(dir, "serve.out"))
	require.NoError(t, err, "%s\nserve said:\n%s", out, serveOut)
	text := string(out)
	require.Contains(t, text, "vats          0 (0 active)\n", "status answered")
	require.Contains(t, text, `"rootKref": "ko1"`, "the launch from stdin")
	require.Contains(t, text, "\n5\n")
	require.Contains(t, string(serveOut), "stopped")

	i := strings.Index(text, "left: ")
	require.GreaterOrEqual(t, i, 0, text)
	left := strings.Fields(text[i+len("left: "):])
	for _, gone := range []string{"k.db.addr", "k.db.token", "k.db.pid"} {
		require.False(t, slices.Contains(left, gone), "%s left behind: %v", gone, left)
	}
	require.Contains(t, left, "k.db")

	code, _, errOut := cli(t, "status", "--db", filepath.Join(dir, "k.db"))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "no daemon serves the database")
	require.Contains(t, errOut, "is `kernel-actors serve --db "+filepath.Join(dir, "k.db")+"` running?")
}
