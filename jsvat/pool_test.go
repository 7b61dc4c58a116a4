//go:build jsvat

package jsvat

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// warmState is the warm list's length and the workers being started for
// it.
func (r *Runtime) warmState() (ready, filling int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.mu.warm), r.mu.filling
}

// A vat that takes the warm worker starts its replacement only once its
// initVat is answered: the replacement's boot must not compete with the
// launch it is kept for. Without the deferral take itself started one.
func TestWarmReplacementWaitsForInitVat(t *testing.T) {
	rt := newRuntime(t, Options{Warm: 1})
	eventually(t, func() bool { ready, _ := rt.warmState(); return ready == 1 }, "the warm worker is up")
	warm := rt.PIDs()
	require.Len(t, warm, 1)

	// take, as start calls it: the warm worker, and nothing started yet.
	p, err := rt.take("v9", rt.log)
	require.NoError(t, err)
	require.Equal(t, warm[0], p.pid, "the warm worker was taken")
	ready, filling := rt.warmState()
	require.Zero(t, ready+filling, "no replacement is started while the taken worker loads its vat")
	require.Len(t, rt.PIDs(), 1)
	p.kill("test done with it")

	// What start does when it ends: the pool is refilled.
	rt.fill()
	eventually(t, func() bool { ready, _ := rt.warmState(); return ready == 1 }, "a new warm worker is up")
	fresh := rt.PIDs()
	require.Len(t, fresh, 1)

	// A vat's start takes the warm worker and, once its initVat is answered,
	// starts the replacement.
	k := newFakeKernel()
	v := rt.NewVat(VatSpec{ID: "v1", BundleSpec: testdata(t, "echo.js")})
	defer v.Stop()
	require.NoError(t, v.Deliver(startVat(), k))
	require.Contains(t, rt.PIDs(), fresh[0], "the vat runs in the warm worker")
	eventually(t, func() bool { ready, _ := rt.warmState(); return ready == 1 }, "its replacement is started after the start")
	require.Len(t, rt.PIDs(), 2)
}
