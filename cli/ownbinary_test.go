package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// ownBinaryBlock returns the README's "Build your own binary" shell block:
// the one that calls cli.Main.
func ownBinaryBlock(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[1], "cli.Main(") {
			return m[1]
		}
	}
	t.Fatal("the README has no shell block that builds a binary with cli.Main")
	return ""
}

// A new module outside this repository builds a binary of its own with
// its own Go vat through package cli, and runs bundles, run, serve and its
// clients, and version on it: the README's block, pasted into bash at the
// root of the checkout as it stands, and each output is what its comment
// says. The block fetches nothing (GOPROXY=off): the new module's
// requirements come from this checkout (the block's replace directive)
// and the module cache, which the test fills first with this module's
// graph.
func TestBuildYourOwnBinary(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	block := ownBinaryBlock(t, root)
	// The new module's build reads the go.mod of every module in this
	// one's graph, some of which nothing here builds (testify's older
	// versions, required by dependencies), so a fresh machine's cache may
	// not have them yet, or may have them only if another package's test
	// happened to run first. Loading the whole graph once, with the
	// environment's proxy, fetches them; the block itself then runs with
	// the proxy off.
	list := exec.Command("go", "list", "-m", "all")
	list.Dir = root
	list.Env = append(os.Environ(), "GOWORK=off")
	lout, err := list.CombinedOutput()
	require.NoError(t, err, "go list -m all: %s", lout)
	tmp := t.TempDir()
	// A failing step must not leave the block's serve running.
	cmd := exec.Command("bash", "-e", "-c", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"+block)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "GOPROXY=off", "GOSUMDB=off", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	text := string(out)
	at := 0
	for _, want := range []string{
		"greeter  greets whoever it is told\n",
		"         methods: bootstrap(vats, services), greet(who)\n",
		`bootstrap result: "ready"`,
		"quiescent: 1 crank in this run",
		"greeter serving g.db on http://127.0.0.1:",
		`"rootKref": "ko1"`,
		`"hello, world"`,
		"kernel-actors  v0.0.0-00010101000000-000000000000 => " + root + "\n",
		"stopped\n",
	} {
		i := strings.Index(text[at:], want)
		require.GreaterOrEqual(t, i, 0, "want %q after offset %d in:\n%s", want, at, text)
		at += i + len(want)
	}

	// The module it made lives outside the checkout, and serve left
	// nothing of itself beside the database.
	mods, err := filepath.Glob(filepath.Join(tmp, "*", "go.mod"))
	require.NoError(t, err)
	require.Len(t, mods, 1)
	dir := filepath.Dir(mods[0])
	require.False(t, strings.HasPrefix(dir, root+string(filepath.Separator)))
	for _, gone := range []string{"g.db.addr", "g.db.token", "g.db.pid"} {
		_, err := os.Stat(filepath.Join(dir, gone))
		require.ErrorIs(t, err, os.ErrNotExist, gone)
	}
	_, err = os.Stat(filepath.Join(dir, "greeter"))
	require.NoError(t, err, "the binary it built")
}
