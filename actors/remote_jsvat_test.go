//go:build jsvat

package actors_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/jsvat"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vat"
)

// JavaScript vats across kernels, in two processes (mutual TLS): a
// JavaScript vat on A calls a Go vat on B through a presence and gets its
// reply, and A's host calls a JavaScript vat on B, whose count (in its
// baggage) moves once per call. (Needs Node.js and the worker's npm
// dependencies, as every jsvat test does.)
func TestRemoteKernelsJS(t *testing.T) {
	const name = "TestRemoteKernelsJS"
	switch os.Getenv(remoteRoleEnv) {
	case "a":
		remoteJSKernelA(t)
		return
	case "b":
		remoteJSKernelB(t)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	b := startRemoteChild(t, ctx, name, "b")
	a := startRemoteChild(t, ctx, name, "a")
	a.Write(b.Read()) // B's peer id and address
	b.Write(a.Read()) // A's
	a.Write(b.Read()) // the Go vat's ref
	a.Write(b.Read()) // the JavaScript vat's ref
	answers := a.Read()
	b.Write(remoteLine{})
	report := b.Read()
	a.Wait()
	b.Wait()
	require.Equal(t, []int64{1, 2, 3}, answers.Log, "B's JavaScript vat counted each call from A's host once")
	require.Empty(t, answers.Problems, "A's auditor")
	require.Zero(t, answers.Pending)
	require.Empty(t, report.Problems, "B's auditor")
	require.Zero(t, report.Pending)
}

// jsRuntime is a runtime over the repository's worker.
func jsRuntime(t *testing.T) *jsvat.Runtime {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "jsvat", "worker"))
	require.NoError(t, err)
	rt, err := jsvat.NewRuntime(jsvat.Options{WorkerDir: dir, BundleCache: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rt.Close()) })
	require.NoError(t, rt.Check(context.Background()), "JavaScript vat tests need Node.js and the worker's dependencies")
	return rt
}

// echoVat is jsvat's test vat: hello, incr, and callBack(other, arg),
// which sends other.hello(arg) and answers its reply.
func echoVat(t *testing.T, who string) kernel.ClusterConfig {
	p, err := filepath.Abs(filepath.Join("..", "jsvat", "testdata", "echo.js"))
	require.NoError(t, err)
	return kernel.ClusterConfig{Bootstrap: "echo", Vats: map[string]kernel.VatConfig{
		"echo": {BundleSpec: p, Parameters: map[string]any{"name": who}}}}
}

func remoteJSKernelA(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	pipe := newRemotePipe(t)
	k := startNode(t, actors.Config{Registry: vat.NewRegistry(), JS: jsRuntime(t), Remote: remoteConfig(false)})
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	b := pipe.Read()
	toB, err := k.AddRemote(ctx, b.Peer, b.Addr)
	require.NoError(t, err)
	pipe.Write(remoteLine{Addr: me.Address, Peer: me.ID})
	goBob, err := k.ImportFromRemote(ctx, toB, pipe.Read().Ref)
	require.NoError(t, err)
	jsEcho, err := k.ImportFromRemote(ctx, toB, pipe.Read().Ref)
	require.NoError(t, err)

	res, err := k.LaunchSubcluster(ctx, echoVat(t, "alice"))
	require.NoError(t, err)
	// A JavaScript vat here, a Go vat there.
	v, err := k.QueueMessage(ctx, res.RootKref, "callBack", goBob, "alice")
	require.NoError(t, err)
	require.Equal(t, "hello alice, from go-bob", v)

	var report remoteLine
	for range 3 {
		v, err := k.QueueMessage(ctx, jsEcho, "incr") // A's host, to a JavaScript vat there
		require.NoError(t, err)
		report.Log = append(report.Log, v.(int64))
	}
	l := auditAndDrain(ctx, t, k)
	report.Problems, report.Pending = l.Problems, l.Pending
	pipe.Write(report)
}

func remoteJSKernelB(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	pipe := newRemotePipe(t)
	reg := vat.NewRegistry()
	reg.MustRegister("go-bob", func(vc *vat.Context) (any, error) {
		return vat.Far("bob", vat.Methods{
			"bootstrap": func(*vat.Call) (any, error) { return nil, nil },
			"hello": func(c *vat.Call) (any, error) {
				return "hello " + c.Arg(0).(string) + ", from go-bob", nil
			},
		}), nil
	})
	k := startNode(t, actors.Config{Registry: reg, JS: jsRuntime(t), DBPath: filepath.Join(t.TempDir(), "b.db"),
		Remote: remoteConfig(false)})
	me, err := k.LocalPeer(ctx)
	require.NoError(t, err)
	pipe.Write(remoteLine{Addr: me.Address, Peer: me.ID})
	a := pipe.Read()
	toA, err := k.AddRemote(ctx, a.Peer, a.Addr)
	require.NoError(t, err)
	bob, err := k.LaunchSubcluster(ctx, kernel.ClusterConfig{Bootstrap: "bob",
		Vats: map[string]kernel.VatConfig{"bob": {Bundle: "go-bob"}}})
	require.NoError(t, err)
	echo, err := k.LaunchSubcluster(ctx, echoVat(t, "bob"))
	require.NoError(t, err)
	for _, root := range []kernel.KRef{bob.RootKref, echo.RootKref} {
		ref, err := k.ExportToRemote(ctx, toA, root)
		require.NoError(t, err)
		pipe.Write(remoteLine{Ref: ref})
	}
	pipe.Read() // A is done
	report := auditAndDrain(ctx, t, k)
	pipe.Write(report)
}
