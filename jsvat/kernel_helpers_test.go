//go:build jsvat

package jsvat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/jsvat"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/vat"
)

// These tests run JavaScript vats in a whole kernel (actors, with the
// auditor after every crank under -tags invariants), against real worker
// processes. They need Node.js and `npm ci --prefix jsvat/worker`; without
// them they fail saying so (CI installs both).

func testdata(t testing.TB, name string) string {
	p, err := filepath.Abs(filepath.Join("testdata", name))
	require.NoError(t, err)
	return p
}

var bundles struct {
	sync.Mutex
	made map[string]string
}

// bundleOf returns the bundle (endoZipBase64, made by @endo/bundle-source
// through the worker's bin/bundle.js) of testdata/name, made once a run.
func bundleOf(t testing.TB, name string) string {
	t.Helper()
	bundles.Lock()
	defer bundles.Unlock()
	if p, ok := bundles.made[name]; ok {
		return p
	}
	out := filepath.Join(jsvat.TestBundleCache, strings.ReplaceAll(strings.TrimSuffix(name, ".js"), "/", "-")+".bundle")
	cmd := exec.Command("node", filepath.Join("worker", "bin", "bundle.js"), testdata(t, name), out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bundling %s (JavaScript vat tests need Node.js and `npm ci --prefix jsvat/worker`): %v: %s", name, err, msg)
	}
	if bundles.made == nil {
		bundles.made = map[string]string{}
	}
	bundles.made[name] = out
	return out
}

// newRuntime makes a runtime over the repository's worker, checked.
func newRuntime(t testing.TB, opts jsvat.Options) *jsvat.Runtime {
	t.Helper()
	if opts.WorkerDir == "" {
		d, err := filepath.Abs("worker")
		require.NoError(t, err)
		opts.WorkerDir = d
	}
	if opts.BundleCache == "" {
		opts.BundleCache = jsvat.TestBundleCache
	}
	rt, err := jsvat.NewRuntime(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close()) })
	if err := rt.Check(context.Background()); err != nil {
		t.Fatalf("JavaScript vat tests need Node.js and the worker's dependencies: %v", err)
	}
	return rt
}

// logBuffer collects a kernel's JSON log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// entries returns the log lines whose fields include all of want.
func (l *logBuffer) entries(want map[string]any) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(l.b.String(), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		ok := true
		for k, v := range want {
			if e[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// startKernel starts a kernel with cfg (a registry and the runtime
// filled in if missing), stopped at the test's end.
func startKernel(t testing.TB, cfg actors.Config) *actors.Kernel {
	t.Helper()
	if cfg.Registry == nil {
		cfg.Registry = goRegistry()
	}
	if cfg.JS == nil {
		cfg.JS = newRuntime(t, jsvat.Options{})
	}
	k, err := actors.Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Stop(context.Background()) })
	return k
}

// goRegistry holds the Go half of the mixed clusters.
func goRegistry() *vat.Registry {
	reg := vat.NewRegistry()
	reg.MustRegister("gobob", func(vc *vat.Context) (any, error) {
		var kept any
		return vat.Far("gobob", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { return "gobob ready", nil },
			// An object of the JavaScript vat, kept to be called later.
			"keep":       func(c *vat.Call) (any, error) { kept = c.Arg(0); return "kept", nil },
			"useKept":    func(c *vat.Call) (any, error) { return vat.E(kept).Send("describe"), nil },
			"forgetKept": func(c *vat.Call) (any, error) { kept = nil; return nil, nil },
			"makeThing": func(c *vat.Call) (any, error) {
				return vat.Far("gothing", vat.Methods{
					"describe": func(c *vat.Call) (any, error) { return "a thing from Go", nil },
				}), nil
			},
			// A promise the JavaScript vat decides: awaited here.
			"addOne": func(c *vat.Call) (any, error) {
				v, err := c.Arg(0).(*vat.Promise).Await()
				if err != nil {
					return nil, err
				}
				return v.(int64) + 1, nil
			},
			// A promise this vat decides, handed to the JavaScript vat
			// unsettled and settled after.
			"askDouble": func(c *vat.Call) (any, error) {
				p, resolve, _ := c.NewPromise()
				answer := vat.E(c.Arg(0)).Send("double", p)
				resolve(int64(21))
				return answer, nil
			},
			"ping": func(c *vat.Call) (any, error) { return c.Arg(0).(int64) + 1, nil },
		}), nil
	})
	return reg
}

// clist is a vat's c-list as kref -> vref.
func clist(t testing.TB, k *actors.Kernel, id kernel.VatID) map[string]string {
	out := map[string]string{}
	require.NoError(t, k.ReadStore(context.Background(), func(st *persistence.Store) error {
		for _, kref := range st.CListKRefs(string(id)) {
			e, _ := st.CList(string(id), kref)
			out[kref] = e.VRef
		}
		return nil
	}))
	return out
}

// objectExists reports whether the kernel still has kref's object row.
func objectExists(t testing.TB, k *actors.Kernel, kref string) bool {
	var ok bool
	require.NoError(t, k.ReadStore(context.Background(), func(st *persistence.Store) error {
		_, ok = st.Object(kref)
		return nil
	}))
	return ok
}

// eventually polls cond until it holds, failing after 30 s: only for what
// a real OS process does.
func eventually(t testing.TB, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
