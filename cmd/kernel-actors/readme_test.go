package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readmeBlocks returns the ```sh code blocks of the repository's README.
func readmeBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	re := regexp.MustCompile("(?s)```sh\n(.*?)```")
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	return out
}

// The README's session works as it stands when pasted into a shell: run
// from the repository's root with bash, each command's output is what its
// comment says. (The README's two other blocks, the demo and the test
// command, are what CI runs.)
func TestREADMESession(t *testing.T) {
	var session string
	for _, b := range readmeBlocks(t) {
		if strings.Contains(b, "ka serve") {
			session = b
		}
	}
	require.NotEmpty(t, session, "the README has a session with serve")
	cmd := exec.Command("bash", "-e", "-c", session)
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	text := string(out)
	// The outputs the comments promise, in order.
	at := 0
	for _, want := range []string{`"subclusterId": "s1"`, `"rootKref": "ko1"`, "\n5\n", "\n5\n",
		"incarnation 1", "\n5\n", "AUDIT: ok"} {
		i := strings.Index(text[at:], want)
		require.GreaterOrEqual(t, i, 0, "want %q after offset %d in:\n%s", want, at, text)
		at += i + len(want) - 1
	}
}
