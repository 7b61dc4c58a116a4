package demos

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// moduleFile is a go.mod for a module of a user's own that uses this
// checkout of kernel-actors in place of a published version.
func moduleFile(t *testing.T, module, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	goLine := regexp.MustCompile(`(?m)^go .*$`).FindString(string(b))
	require.NotEmpty(t, goLine)
	return "module " + module + "\n\n" + goLine + "\n\nrequire github.com/ocapgo/kernel-actors v0.0.0\n\n" +
		"replace github.com/ocapgo/kernel-actors => " + root + "\n"
}

// offlineGo runs the go command in dir the way a new module is built
// here: its requirements resolved from this checkout's go.mod and the
// module cache (GOPROXY=off: nothing is fetched), with no workspace.
func offlineGo(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s in %s:\n%s", strings.Join(args, " "), dir, out)
	return string(out)
}

// copyDir copies the regular files under src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	}))
}

// Each example is a program of its own: its folder, copied into a new
// module that requires kernel-actors (through a replace directive naming
// this checkout), builds with its tests (go vet compiles them) and runs to
// the end of its story. An example that imported one of the repository's
// internal packages fails here: Go refuses an internal import from
// another module.
func TestExamplesRunCopiedIntoAModule(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	dirs, err := filepath.Glob(filepath.Join(root, "examples", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			mod := filepath.Join(t.TempDir(), name)
			copyDir(t, dir, mod)
			require.NoError(t, os.WriteFile(filepath.Join(mod, "go.mod"), []byte(moduleFile(t, "example.com/"+name, root)), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644))
			offlineGo(t, mod, "vet", "./...")
			if !hasProgram(t, mod) {
				// A folder of vats for the binary (examples/jsvats: JavaScript
				// code and cluster files), not a Go program: its own tests run
				// it under kernel-actors.
				return
			}
			out := offlineGo(t, mod, "run", ".")
			// Every story's last word is its last fact; the error path
			// would have exited non-zero above.
			require.NotEmpty(t, strings.TrimSpace(out))
		})
	}
}

// hasProgram reports whether dir holds a Go program: a file other than a
// test that is in package main.
func hasProgram(t *testing.T, dir string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if regexp.MustCompile(`(?m)^package main$`).Match(b) {
			return true
		}
	}
	return false
}
