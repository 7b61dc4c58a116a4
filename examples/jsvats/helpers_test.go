// Package jsvats_test runs the example's clusters with the built
// kernel-actors binary, as its README does. The tests that need Node.js
// carry the build tag jsvat; the one without it checks what a machine
// without Node gets.
package jsvats_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

var build struct {
	once sync.Once
	path string
	err  error
}

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if build.path != "" {
		os.RemoveAll(filepath.Dir(build.path))
	}
	os.Exit(code)
}

// repoRoot is the repository's root, two levels above this directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// binary builds cmd/kernel-actors once per test run.
func binary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "jsvats-bin")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "kernel-actors")
		cmd := exec.Command("go", "build", "-o", build.path, "./cmd/kernel-actors")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = err
			build.path = string(out)
		}
	})
	require.NoError(t, build.err, build.path)
	return build.path
}

// cli runs the binary in dir to completion and returns its exit code and
// output. env adds to the test's environment.
func cli(t *testing.T, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errOut.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errOut.String()
}

// config is the absolute path of one of the example's cluster files.
func config(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(name)
	require.NoError(t, err)
	return p
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
}
