//go:build jsvat

package jsvats_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEBlocks runs the README's shell blocks as a reader pastes
// them, from the repository's root: the first, the npm install, must be
// the line .ci/run runs (CI has run it before the tests; running it here
// would reinstall the packages under the other tests); the others run in
// bash, in a directory whose entries are links to the repository's, so
// the binary and the databases they make go there and not into the
// checkout. Their output must show the results the README tells of.
func TestREADMEBlocks(t *testing.T) {
	text, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var blocks []string
	for _, part := range strings.Split(string(text), "```sh\n")[1:] {
		end := strings.Index(part, "```")
		require.GreaterOrEqual(t, end, 0, "an unclosed block")
		blocks = append(blocks, part[:end])
	}
	require.Len(t, blocks, 3, "a new block needs its check here")

	require.Equal(t, "npm ci --prefix jsvat/worker\n", blocks[0])
	ci, err := os.ReadFile(filepath.Join(repoRoot(t), ".ci", "run"))
	require.NoError(t, err)
	require.Contains(t, string(ci), "\n"+blocks[0], ".ci/run installs the worker's packages as the README says")

	dir := t.TempDir()
	entries, err := os.ReadDir(repoRoot(t))
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() == ".git" || e.Name() == "kernel-actors" {
			continue
		}
		require.NoError(t, os.Symlink(filepath.Join(repoRoot(t), e.Name()), filepath.Join(dir, e.Name())))
	}
	run := func(block string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s\noutput:\n%s", block, out)
		return string(out)
	}

	out := run(blocks[1])
	require.Contains(t, out, `bootstrap result: "Hello, ocap-kernel!; visits: 1"`)
	mixed := `"Hi, ocap-kernel!; visits: 1; Go counter: 2; echo/bob returned the same object"`
	require.Contains(t, out, "bootstrap result: "+mixed)
	require.Contains(t, out, "resumed. Its bootstrap ran before, with result "+mixed)

	out = run(blocks[2])
	require.Contains(t, out, "\n2\n", "visit() counts the second visit")
	require.Contains(t, out, "4 (4 active)")
	require.Contains(t, out, "stopped")
	for _, f := range []string{"mixed.db", "served.db", "served.db.addr", "served.db.token"} {
		_, err := os.Stat(filepath.Join(dir, f))
		require.ErrorIs(t, err, os.ErrNotExist, "%s is left behind", f)
	}
}
