package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/ocapgo/kernel-actors/jsvat"
	"github.com/ocapgo/kernel-actors/kernel"
)

// WorkerEnv is the environment variable that names the JavaScript vat
// worker's directory when --js-worker is not given.
const WorkerEnv = "KERNEL_ACTORS_JS_WORKER"

// jsFlags are the flags of the commands that run a kernel (run, serve):
// where Node.js and the JavaScript vat worker are. Nothing of them is
// used by a kernel without JavaScript vats, so Go-only use never needs
// Node.
type jsFlags struct {
	node, worker, cache string
}

func (j *jsFlags) register(fs *flag.FlagSet) {
	// Node defaults to the name on PATH, as a shell would find it, so an
	// ordinary install works with no flag at all.
	fs.StringVar(&j.node, "node", jsvat.DefaultNode, "the Node.js binary for JavaScript vats (a path, or a name looked up on PATH)")
	// No cache by default: a directory that outlives the run is state the
	// user should choose to keep, not find later.
	fs.StringVar(&j.cache, "js-bundle-cache", "", "keep the bundles made of .js vats in this directory, so the next run skips the bundling (seconds a file); default: a temporary one, removed at exit")
	fs.StringVar(&j.worker, "js-worker", "", "the JavaScript vat worker's directory, its npm dependencies installed (default: $"+WorkerEnv+", else jsvat/worker in this directory or one above it, else in the source tree the binary was built from)")
}

// runtime makes the runtime of JavaScript vats. NewRuntime starts no
// process unless warm asks for one, and never fails for want of Node:
// a JavaScript vat's launch says what to install (jsvat.ErrNoNode,
// jsvat.ErrNoWorker). So run passes warm 1 only for a config with a
// JavaScript vat, and a Go-only kernel costs a temporary directory.
// warmOnUse is jsvat.Options.WarmOnUse: workers kept warm once a vat has
// taken one.
func (j *jsFlags) runtime(e *env, warm, warmOnUse int) (*jsvat.Runtime, error) {
	dir := j.workerDir(e)
	cache, err := j.bundleCache(dir)
	if err != nil {
		return nil, err
	}
	return jsvat.NewRuntime(jsvat.Options{Node: j.node, WorkerDir: dir, Warm: warm, WarmOnUse: warmOnUse, BundleCache: cache})
}

// bundleCache is --js-bundle-cache's subdirectory for the worker's
// dependencies as its package-lock.json pins them, made if missing. The
// worker keys a bundle by its source alone, but a bundle holds the code
// of the packages the vat imports (@endo/far, ...), so a bundle made
// before the worker's packages changed must not be found after.
func (j *jsFlags) bundleCache(workerDir string) (string, error) {
	if j.cache == "" {
		return "", nil
	}
	lock, err := os.ReadFile(filepath.Join(workerDir, "package-lock.json"))
	if err != nil {
		return "", fmt.Errorf("--js-bundle-cache: the worker's lockfile: %w (see --js-worker)", err)
	}
	// Keyed by the lockfile's hash, so a change of the worker's packages
	// starts a fresh cache instead of serving bundles built on old code.
	sum := sha256.Sum256(lock)
	dir := filepath.Join(j.cache, "deps-"+hex.EncodeToString(sum[:8]))
	// 0700: the cache holds code that will run as vats, so no other user
	// may put a bundle there for this one to load.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("--js-bundle-cache: %w", err)
	}
	return dir, nil
}

// workerDir is --js-worker, else $KERNEL_ACTORS_JS_WORKER, else the
// first jsvat/worker found from the working directory upward (so the
// commands work from anywhere in a checkout, examples/ included), else
// the one of the source tree this package was built from (a binary built
// from a checkout and run elsewhere), else jsvat.DefaultWorkerDir, whose
// absence the launch reports.
func (j *jsFlags) workerDir(e *env) string {
	if j.worker != "" {
		// An explicit flag wins over everything found, so a user can always
		// override a search that picks the wrong tree.
		return j.worker
	}
	if d := e.getenv(WorkerEnv); d != "" {
		return d
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; {
			// Searched upward from the working directory, nearest first, so a
			// nested checkout uses its own worker rather than an outer one.
			if isWorkerDir(filepath.Join(dir, jsvat.DefaultWorkerDir)) {
				return filepath.Join(dir, jsvat.DefaultWorkerDir)
			}
			up := filepath.Dir(dir)
			if up == dir {
				break
			}
			dir = up
		}
	}
	// This file's path as the compiler saw it: cli/ beside jsvat/. A
	// binary built with -trimpath has a relative one, which is no help.
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		if d := filepath.Join(filepath.Dir(file), "..", jsvat.DefaultWorkerDir); isWorkerDir(d) {
			return filepath.Clean(d)
		}
	}
	return jsvat.DefaultWorkerDir
}

// isWorkerDir reports whether dir looks like the worker package: its
// main script is there (its node_modules may still be missing, which
// the launch reports naming the npm command).
func isWorkerDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "src", "main.js"))
	return err == nil && !st.IsDir()
}

// hasJSVat reports whether cfg has a JavaScript vat (a bundleSpec).
func hasJSVat(cfg kernel.ClusterConfig) bool {
	for _, v := range cfg.Vats {
		if v.BundleSpec != "" {
			return true
		}
	}
	return false
}

// absSpecs makes each relative bundleSpec of cfg absolute: beside the
// config file at path (as clusterfile.Load does), or in the working
// directory for standard input ("-"). A kernel resolves a relative path
// in its own working directory, which for a daemon is not the client's,
// and a resumed run compares the config it is given with the one stored,
// so the path stored must not depend on where run was started. It
// reports whether it changed any.
func absSpecs(cfg kernel.ClusterConfig, path string) (bool, error) {
	base := "."
	if path != "-" {
		base = filepath.Dir(path)
	}
	changed := false
	for name, v := range cfg.Vats {
		if v.BundleSpec == "" || strings.Contains(v.BundleSpec, "://") || filepath.IsAbs(v.BundleSpec) {
			continue
		}
		// Absolute at the client, because the path is resolved where the config
		// was written, not where a daemon or a later resume happens to run.
		abs, err := filepath.Abs(filepath.Join(base, v.BundleSpec))
		if err != nil {
			return false, fmt.Errorf("vats.%s.bundleSpec %q: %w", name, v.BundleSpec, err)
		}
		v.BundleSpec = abs
		cfg.Vats[name] = v
		changed = true
	}
	return changed, nil
}

// jsHint adds to an error for want of Node or of the worker the flag
// that sets it: jsvat's own message names what to install and the
// jsvat.Options field, which a user of the command line does not set.
func jsHint(err error) error {
	switch {
	// The hint names the command-line flag, since the library's message
	// names an Options field that a command-line user cannot set.
	case errors.Is(err, jsvat.ErrNoNode):
		return fmt.Errorf("%w (the command's --node PATH names the node binary)", err)
	case errors.Is(err, jsvat.ErrNoWorker):
		return fmt.Errorf("%w (the command's --js-worker DIR, or $%s, names the worker's directory)", err, WorkerEnv)
	}
	return err
}

// parseJSWarm reads serve's --js-warm: "auto" (no warm worker until a
// JavaScript vat takes one, then one) or a count of workers kept warm
// from the start.
func parseJSWarm(v string) (warm, warmOnUse int, err error) {
	if v == "auto" {
		return 0, 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, 0, usageErr("--js-warm %q: want auto or a count of workers (0 or more)", v)
	}
	return n, 0, nil
}
