package transport

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/remote/identity"
)

// peerKernel is one kernel of a test: a kerneltest Driver (its fake vats
// are the Deliverer) and, once started, the node that owns its kernel.
type peerKernel struct {
	d    *kt.Driver
	id   *identity.Identity
	node *Node
	log  *[]int64 // the bank's deposits, in the order it took them
}

func newPeer(t *testing.T, insecure bool) *peerKernel {
	t.Helper()
	id, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	d := kt.New(t)
	n, err := Start(context.Background(), Config{Identity: id, Host: "127.0.0.1", InsecureLoopback: insecure,
		Kernel: d.K, Deliverer: d, ResendEvery: 50 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { n.Stop(context.Background()) })
	return &peerKernel{d: d, id: id, node: n}
}

// know makes q a remote of p (p's kernel pins q's key and address).
func (p *peerKernel) know(t *testing.T, q *peerKernel) kernel.RemoteID {
	t.Helper()
	var r kernel.RemoteID
	require.NoError(t, p.node.DoOut(context.Background(), func(k *kernel.Kernel) ([]kernel.Output, error) {
		var out []kernel.Output
		var err error
		r, out, err = k.AddRemote(context.Background(), string(q.id.ID()), q.node.Addr())
		return out, err
	}))
	return r
}

// launchBank launches a bank vat in p (before its node runs anything
// else) and returns its root.
func launchBank(t *testing.T, p *peerKernel) kernel.KRef {
	t.Helper()
	var root kernel.KRef
	require.NoError(t, p.node.Do(context.Background(), func(k *kernel.Kernel) error {
		res, out, err := k.Launch(context.Background(), p.d, kernel.ClusterConfig{Bootstrap: "bank",
			Vats: map[string]kernel.VatConfig{"bank": {Bundle: "fake"}}}, kernel.LaunchOptions{NoBootstrap: true})
		p.d.Release(out)
		root = res.Roots["bank"]
		return err
	}))
	v := p.d.Vat("bank")
	total := int64(0)
	p.log = new([]int64)
	v.OnMethod["deposit"] = func(c *kt.Call) error {
		args, err := marshal.Decode(c.Delivery.Message.Methargs)
		if err != nil {
			return err
		}
		n, err := marshal.Int(args.([]any)[1].([]any)[0])
		if err != nil {
			return err
		}
		total += n
		*p.log = append(*p.log, n)
		val, _ := marshal.Encode(total)
		c.Fulfill(c.Result(), val)
		return nil
	}
	return root
}

// introduce gives a a presence of b's object koid.
func introduce(t *testing.T, a, b *peerKernel, aToB, bToA kernel.RemoteID, koid kernel.KRef) kernel.KRef {
	t.Helper()
	ctx := context.Background()
	var ref string
	require.NoError(t, b.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
		var out []kernel.Output
		var err error
		ref, out, err = k.ExportToRemote(ctx, bToA, koid)
		return out, err
	}))
	var presence kernel.KRef
	require.NoError(t, a.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
		var out []kernel.Output
		var err error
		presence, out, err = k.ImportFromRemote(ctx, aToB, ref)
		return out, err
	}))
	return presence
}

func deposit(t *testing.T, a *peerKernel, presence kernel.KRef, amount int64) kernel.KRef {
	t.Helper()
	methargs, err := marshal.Encode([]any{"deposit", []any{amount}})
	require.NoError(t, err)
	var kp kernel.KRef
	require.NoError(t, a.node.DoOut(context.Background(), func(k *kernel.Kernel) ([]kernel.Output, error) {
		var out []kernel.Output
		kp, out, err = k.QueueMessage(context.Background(), presence, methargs)
		return out, err
	}))
	return kp
}

func audit(t *testing.T, p *peerKernel) {
	t.Helper()
	require.NoError(t, p.node.Do(context.Background(), func(k *kernel.Kernel) error {
		problems, err := kernel.Audit(context.Background(), k.Store())
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			t.Errorf("audit: %v", problems)
		}
		return nil
	}))
}

func TestStartRefusesPlaintextOffLoopback(t *testing.T) {
	id, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	d := kt.New(t)
	_, err = Start(context.Background(), Config{Identity: id, Host: "0.0.0.0", InsecureLoopback: true, Kernel: d.K, Deliverer: d})
	require.ErrorIs(t, err, ErrRefused)
	require.Contains(t, err.Error(), "loopback")
}

// The client side pins the key the kernel holds for an address: a server
// with another key (the peer's key changed) fails the handshake, and an
// address with no pin is not dialled at all.
func TestPinnedCredentialsRefuseAChangedKey(t *testing.T) {
	client, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	pinned, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	impostor, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	p := newPins()
	p.set(map[string]identity.PeerID{"peer:1": pinned.ID()})
	creds := &pinnedCreds{id: client, pins: p}

	handshake := func(server *identity.Identity, authority string) error {
		c1, c2 := net.Pipe()
		defer c1.Close()
		srvCfg, err := server.ServerTLS(func(identity.PeerID) error { return nil })
		require.NoError(t, err)
		srvCfg.NextProtos = []string{"h2"} // what gRPC's server credentials add
		go func() {
			s := tlsServer(c2, srvCfg)
			s.Handshake()
			c2.Close()
		}()
		_, _, err = creds.ClientHandshake(context.Background(), authority, c1)
		return err
	}
	require.NoError(t, handshake(pinned, "peer:1"))
	err = handshake(impostor, "peer:1")
	require.ErrorIs(t, err, identity.ErrPeerRefused, "a changed key is refused")
	err = handshake(pinned, "elsewhere:2")
	require.True(t, errors.Is(err, ErrRefused), "no pin, no dial: %v", err)
	// The server side accepts only the kernel's remotes.
	require.NoError(t, p.accept(pinned.ID()))
	require.ErrorIs(t, p.accept(impostor.ID()), identity.ErrPeerRefused)
}

// Config.AckDelay: negative, or not shorter than ResendEvery (the peer
// would resend what only waits for its ack), is refused, saying which.
func TestStartRefusesABadAckDelay(t *testing.T) {
	id, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	d := kt.New(t)
	for _, c := range []struct {
		ack, resend time.Duration
		want        string
	}{
		{-time.Millisecond, 0, "AckDelay -1ms is negative"},
		{time.Second, 0, "not shorter than ResendEvery 200ms"},
		{50 * time.Millisecond, 50 * time.Millisecond, "not shorter than ResendEvery 50ms"},
	} {
		_, err = Start(context.Background(), Config{Identity: id, Host: "127.0.0.1", InsecureLoopback: true,
			Kernel: d.K, Deliverer: d, AckDelay: c.ack, ResendEvery: c.resend})
		require.ErrorIs(t, err, ErrRefused)
		require.Contains(t, err.Error(), c.want)
	}
	// The default follows a short ResendEvery down: half of it.
	cfg := Config{Identity: id, Host: "127.0.0.1", Kernel: d.K, Deliverer: d, ResendEvery: time.Millisecond}
	require.NoError(t, cfg.validate())
	require.Equal(t, 500*time.Microsecond, cfg.AckDelay)
}
