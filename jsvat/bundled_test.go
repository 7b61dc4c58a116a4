package jsvat

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
)

// These tests need no Node.js: they are about which entry script a
// Runtime picks. That the real build (npm ci) makes a bundle the Runtime
// accepts is TestBuiltBundleIsUsed, under the jsvat tag.

// fakeWorker makes a worker directory with the given src/ files and,
// unless bundleBanner is "", a dist/worker.mjs starting with it.
func fakeWorker(t *testing.T, src map[string]string, bundleBanner string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "src"), 0o755))
	for name, body := range src {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "src", name), []byte(body), 0o644))
	}
	if bundleBanner != "" {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "dist"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "dist", "worker.mjs"),
			[]byte("#!/usr/bin/env node\n"+bundleBanner+"\nconsole.log(1);\n"), 0o644))
	}
	return dir
}

func banner(t *testing.T, dir string) string {
	sum, err := sourceDigest(filepath.Join(dir, "src"))
	require.NoError(t, err)
	return "// kernel-actors jsvat worker bundle; " + digestMarker + sum
}

func TestEntryIsTheBundleBuiltFromTheseSources(t *testing.T) {
	src := map[string]string{"main.js": "import './lockdown.js';\n", "lockdown.js": "lockdown();\n"}
	dir := fakeWorker(t, src, "")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "dist"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dist", "worker.mjs"), []byte(banner(t, dir)+"\n"), 0o644))

	c := chooseEntry(dir, false)
	require.True(t, c.bundled)
	require.Equal(t, filepath.Join(dir, "dist", "worker.mjs"), c.path)
	require.Empty(t, c.stale)

	// Asked for the sources, the runtime runs them, bundle or not.
	c = chooseEntry(dir, true)
	require.False(t, c.bundled)
	require.Equal(t, filepath.Join(dir, "src", "main.js"), c.path)
	require.Empty(t, c.stale)
}

func TestEntryWithoutBundleIsTheSources(t *testing.T) {
	dir := fakeWorker(t, map[string]string{"main.js": "1;\n"}, "")
	c := chooseEntry(dir, false)
	require.False(t, c.bundled)
	require.Equal(t, filepath.Join(dir, "src", "main.js"), c.path)
	require.Empty(t, c.stale, "no bundle is the --omit=dev install: not worth a warning")
}

// An edit to src/ after the build must run, not the old bundle: the
// digest of each kind of change differs from the built one.
func TestStaleBundleIsNotRun(t *testing.T) {
	orig := map[string]string{"main.js": "import './a.js';\n", "a.js": "export const a = 1;\n"}
	for name, edit := range map[string]func(dir string){
		"content edited": func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "src", "a.js"), []byte("export const a = 2;\n"), 0o644))
		},
		"file added": func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "src", "b.js"), nil, 0o644))
		},
		"file removed": func(dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "src", "a.js")))
		},
		// The same bytes split differently over two files: the lengths in
		// the digest tell them apart.
		"bytes moved between files": func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "src", "a.js"), []byte("export const a = 1;\nx"), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "src", "main.js"), []byte("import './a.js';"), 0o644))
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := fakeWorker(t, orig, "")
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "dist"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "dist", "worker.mjs"), []byte(banner(t, dir)+"\n"), 0o644))
			require.True(t, chooseEntry(dir, false).bundled)
			edit(dir)
			c := chooseEntry(dir, false)
			require.False(t, c.bundled)
			require.Equal(t, filepath.Join(dir, "src", "main.js"), c.path)
			require.Contains(t, c.stale, "built from other sources")
			require.Contains(t, c.stale, "npm run build --prefix "+dir)
		})
	}
}

func TestGarbageBundleIsNotRun(t *testing.T) {
	for name, head := range map[string]string{
		"no banner":   "console.log('hello');",
		"cut digest":  "// " + digestMarker + "abc",
		"not hex":     "// " + digestMarker + strings.Repeat("zz", 32),
		"empty":       "\x00",
		"other build": "// built by hand",
	} {
		t.Run(name, func(t *testing.T) {
			dir := fakeWorker(t, map[string]string{"main.js": "1;\n"}, head)
			c := chooseEntry(dir, false)
			require.False(t, c.bundled)
			require.Equal(t, filepath.Join(dir, "src", "main.js"), c.path)
			require.Contains(t, c.stale, "dist")
			require.Contains(t, c.stale, "rebuild with")
		})
	}
}

// A runtime over a stale bundle says so in its log, once, at start.
func TestRuntimeLogsStaleBundle(t *testing.T) {
	dir := fakeWorker(t, map[string]string{"main.js": "1;\n"}, "// "+digestMarker+strings.Repeat("00", 32))
	var log strings.Builder
	rt, err := NewRuntime(Options{WorkerDir: dir, Logger: zerolog.New(&log)})
	require.NoError(t, err)
	defer rt.Close()
	require.Equal(t, filepath.Join(dir, "src", "main.js"), rt.entry)
	require.Contains(t, log.String(), "worker bundle not used")
	require.Contains(t, log.String(), "built from other sources")
}
