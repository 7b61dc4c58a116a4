package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
)

// TestWorkerDirOrder: --js-worker beats $KERNEL_ACTORS_JS_WORKER, which
// beats a jsvat/worker found from the working directory upward, which
// beats the source tree's.
func TestWorkerDirOrder(t *testing.T) {
	root := t.TempDir()
	found := filepath.Join(root, "jsvat", "worker")
	require.NoError(t, os.MkdirAll(filepath.Join(found, "src"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(found, "src", "main.js"), nil, 0o644))
	deep := filepath.Join(root, "examples", "x")
	require.NoError(t, os.MkdirAll(deep, 0o755))
	t.Chdir(deep)

	vars := map[string]string{}
	e := &env{getenv: func(k string) string { return vars[k] }}
	var j jsFlags
	got, err := filepath.EvalSymlinks(j.workerDir(e))
	require.NoError(t, err)
	want, err := filepath.EvalSymlinks(found)
	require.NoError(t, err)
	require.Equal(t, want, got, "found from the working directory upward")

	vars[WorkerEnv] = "/from/env"
	require.Equal(t, "/from/env", j.workerDir(e))
	j.worker = "/from/flag"
	require.Equal(t, "/from/flag", j.workerDir(e))

	// Nothing above: the source tree's worker, this checkout's.
	t.Chdir(t.TempDir())
	delete(vars, WorkerEnv)
	j.worker = ""
	require.True(t, filepath.IsAbs(j.workerDir(e)), j.workerDir(e))
	require.True(t, isWorkerDir(j.workerDir(e)), "the source tree's worker: %s", j.workerDir(e))
}

// TestAbsSpecs: relative bundleSpecs become absolute beside the config
// file (or in the working directory for stdin); absolute ones, file://
// URLs and Go vats are left as they are.
func TestAbsSpecs(t *testing.T) {
	cfg := kernel.ClusterConfig{Bootstrap: "a", Vats: map[string]kernel.VatConfig{
		"a": {BundleSpec: "a.js"}, "b": {BundleSpec: "/abs/b.js"}, "c": {BundleSpec: "file:///c.js"}, "d": {Bundle: "std/counter"},
	}}
	changed, err := absSpecs(cfg, "/conf/dir/cluster.yaml")
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, "/conf/dir/a.js", cfg.Vats["a"].BundleSpec)
	require.Equal(t, "/abs/b.js", cfg.Vats["b"].BundleSpec)
	require.Equal(t, "file:///c.js", cfg.Vats["c"].BundleSpec)
	require.Equal(t, "std/counter", cfg.Vats["d"].Bundle)
	changed, err = absSpecs(cfg, "/conf/dir/cluster.yaml")
	require.NoError(t, err)
	require.False(t, changed, "nothing relative is left")

	dir := t.TempDir()
	t.Chdir(dir)
	cfg.Vats["a"] = kernel.VatConfig{BundleSpec: "a.js"}
	_, err = absSpecs(cfg, "-")
	require.NoError(t, err)
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.Equal(t, filepath.Join(wd, "a.js"), cfg.Vats["a"].BundleSpec)
}

// TestBundleCacheByLockfile: --js-bundle-cache keeps bundles in a
// subdirectory named for the worker's lockfile, so a change of the
// worker's packages starts a new one; without the flag, the runtime's
// own temporary directory ("").
func TestBundleCacheByLockfile(t *testing.T) {
	worker, cache := t.TempDir(), t.TempDir()
	lock := filepath.Join(worker, "package-lock.json")
	var j jsFlags
	dir, err := j.bundleCache(worker)
	require.NoError(t, err)
	require.Empty(t, dir)

	j.cache = cache
	_, err = j.bundleCache(worker)
	require.ErrorIs(t, err, os.ErrNotExist, "no lockfile: said, not guessed")
	require.NoError(t, os.WriteFile(lock, []byte(`{"v":1}`), 0o644))
	first, err := j.bundleCache(worker)
	require.NoError(t, err)
	require.DirExists(t, first)
	require.Equal(t, cache, filepath.Dir(first))
	again, err := j.bundleCache(worker)
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.NoError(t, os.WriteFile(lock, []byte(`{"v":2}`), 0o644))
	second, err := j.bundleCache(worker)
	require.NoError(t, err)
	require.NotEqual(t, first, second)
}

func TestParseJSWarm(t *testing.T) {
	for v, want := range map[string][2]int{"auto": {0, 1}, "0": {0, 0}, "3": {3, 0}} {
		warm, onUse, err := parseJSWarm(v)
		require.NoError(t, err, v)
		require.Equal(t, want, [2]int{warm, onUse}, v)
	}
	for _, v := range []string{"", "-1", "1.5", "AUTO", "two"} {
		_, _, err := parseJSWarm(v)
		require.ErrorContains(t, err, "want auto or a count", v)
	}
}
