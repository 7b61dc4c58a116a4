package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// repoRoot is the repository's root, two levels up from this folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// TestREADMEBlock runs the README's shell block as a reader pastes it,
// from the repository's root, and checks it ends as the README says.
func TestREADMEBlock(t *testing.T) {
	text, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var blocks []string
	for _, part := range strings.Split(string(text), "```sh\n")[1:] {
		end := strings.Index(part, "```")
		require.GreaterOrEqual(t, end, 0, "an unclosed block")
		blocks = append(blocks, part[:end])
	}
	require.Len(t, blocks, 1, "a new block needs its check here")
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", blocks[0])
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s\noutput:\n%s", blocks[0], out)
	require.Contains(t, string(out), "Nothing lost, nothing doubled: 6 deposits, each once, in order.")
}

// The folder is self-contained: its program files, copied alone into a
// module of their own that requires this one, build. The module graph is
// this repository's (its go.sum, and a replace to the checkout), and
// nothing is fetched (GOPROXY=off).
func TestFolderBuildsCopied(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	goLine := regexp.MustCompile(`(?m)^go \S+$`).Find(mod)
	require.NotNil(t, goLine)
	gomod := "module example.com/remote\n\n" + string(goLine) + "\n\n" +
		"require github.com/ocapgo/kernel-actors v0.0.0\n\n" +
		"replace github.com/ocapgo/kernel-actors => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "remote"), ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "go build in a copy of the folder:\n%s", out.String())
}
