package jsvat

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// TestBundleCache is the bundle cache every runtime of the package's
// tests shares (internal and external), so each test vat is bundled once
// a run rather than once a test.
var TestBundleCache string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jsvat-test-bundles-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	TestBundleCache = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// workerDir is the worker package of this repository.
func workerDir(t testing.TB) string {
	d, err := filepath.Abs("worker")
	require.NoError(t, err)
	return d
}

// newRuntime makes a runtime over the repository's worker and checks that
// Node and the worker's dependencies are there. Without them the test
// fails, saying what to install: these tests must run in CI, not be
// skipped on a machine that lacks Node.
func newRuntime(t testing.TB, opts Options) *Runtime {
	t.Helper()
	if opts.WorkerDir == "" {
		opts.WorkerDir = workerDir(t)
	}
	if opts.BundleCache == "" {
		opts.BundleCache = TestBundleCache
	}
	rt, err := NewRuntime(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close()) })
	if err := rt.Check(context.Background()); err != nil {
		t.Fatalf("JavaScript vat tests need Node.js and the worker's dependencies: %v", err)
	}
	return rt
}

// testdata is the absolute path of a file under testdata.
func testdata(t testing.TB, name string) string {
	p, err := filepath.Abs(filepath.Join("testdata", name))
	require.NoError(t, err)
	return p
}

// fakeKernel answers a vat's syscalls as a kernel would for these tests:
// it keeps a vatstore, records the other syscalls, and refuses what refuse
// says to.
type fakeKernel struct {
	mu       sync.Mutex
	store    map[string]string
	syscalls []vatproto.Syscall
	refuse   func(vatproto.Syscall) error
	abandon  chan struct{}
}

func newFakeKernel() *fakeKernel { return &fakeKernel{store: map[string]string{}} }

// Abandoned makes fakeKernel an Abandoner, as the supervisor's pump is.
func (k *fakeKernel) Abandoned() <-chan struct{} { return k.abandon }

func (k *fakeKernel) Syscall(s vatproto.Syscall) vatproto.SyscallResult {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.refuse != nil {
		if err := k.refuse(s); err != nil {
			return vatproto.SyscallResult{Err: err}
		}
	}
	switch s.Kind {
	case vatproto.SyscallVatstoreGet:
		v, ok := k.store[s.Key]
		return vatproto.SyscallResult{Value: v, Found: ok}
	case vatproto.SyscallVatstoreGetNextKey:
		keys := make([]string, 0, len(k.store))
		for key := range k.store {
			if key > s.Key {
				keys = append(keys, key)
			}
		}
		if len(keys) == 0 {
			return vatproto.SyscallResult{}
		}
		sort.Strings(keys)
		return vatproto.SyscallResult{Value: keys[0], Found: true}
	case vatproto.SyscallVatstoreSet:
		k.store[s.Key] = s.Value
	case vatproto.SyscallVatstoreDelete:
		delete(k.store, s.Key)
	default:
		k.syscalls = append(k.syscalls, s)
	}
	return vatproto.SyscallResult{}
}

// take returns and forgets the recorded syscalls.
func (k *fakeKernel) take() []vatproto.Syscall {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.syscalls
	k.syscalls = nil
	return s
}

func startVat() vatproto.Delivery { return vatproto.Delivery{Kind: vatproto.DeliverStartVat} }

func message(t testing.TB, target vatproto.VRef, result vatproto.VRef, method string, args ...any) vatproto.Delivery {
	m, err := marshal.Encode([]any{method, args})
	require.NoError(t, err)
	return vatproto.Delivery{Kind: vatproto.DeliverMessage, Target: target, Message: vatproto.VatMessage{Methargs: m, Result: result}}
}

// resolved finds the resolution of vpid among syscalls and decodes it.
func resolved(t testing.TB, syscalls []vatproto.Syscall, vpid vatproto.VRef) (any, bool) {
	t.Helper()
	for _, s := range syscalls {
		if s.Kind != vatproto.SyscallResolve {
			continue
		}
		for _, r := range s.Resolutions {
			if r.VPID == vpid {
				v, err := marshal.Decode(r.Data)
				require.NoError(t, err)
				return v, r.Rejected
			}
		}
	}
	t.Fatalf("no resolution of %s in %v", vpid, syscalls)
	return nil, false
}

// logSink collects log lines.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, string(p))
	return len(p), nil
}

func (s *logSink) logger() zerolog.Logger { return zerolog.New(s) }

func (s *logSink) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "")
}

// eventually polls cond until it holds, failing after 30 s. Only for
// what a real OS process does (a worker's output, its death): everything
// in the kernel's own hands is waited for exactly.
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
