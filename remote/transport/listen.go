package transport

import (
	"context"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
)

// Listen attaches protoactor-go remote to sys, listening on host:port
// with the pump's options (mutual TLS, or plaintext when the pump was
// made InsecureLoopback, which Listen refuses off a loopback host), and
// starts it. It is how both a Node and the actors runtime put a kernel
// on the network. advertise, if not empty, is the host:port peers are
// told instead of the listener's (a kernel listening on 0.0.0.0, behind
// NAT, in a container). Release undoes it.
func Listen(sys *actor.ActorSystem, host string, port int, advertise string, p *Pump) (*remote.Remote, error) {
	if p.insecure && !isLoopback(host) {
		// INVARIANT: plaintext only on loopback, and only when asked.
		return nil, fmt.Errorf("%w: plaintext with host %q: plaintext is allowed only on a loopback address", ErrRefused, host)
	}
	opts := p.RemoteOptions()
	if advertise != "" {
		opts = append(opts[:len(opts):len(opts)], remote.WithAdvertisedHost(advertise))
	}
	cfg := remote.Configure(host, port, opts...)
	// One dial per endpoint, not five: protoactor-go's endpoint writer
	// retries a failed dial in its actor, sleeping 2 s between tries, and
	// a Release (a Stop) waits for it. The pump's resend rounds dial
	// again anyway, with a fresh endpoint, and lose nothing meanwhile
	// (what was not acked is sent again).
	cfg.MaxRetryCount = 1
	r := remote.NewRemote(sys, cfg)
	// Start panics when it cannot listen; a bad address is the caller's
	// error, not a crash.
	if err := startRemote(r); err != nil {
		return nil, err
	}
	return r, nil
}

func startRemote(r *remote.Remote) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("transport: listen: %v", p)
		}
	}()
	r.Start()
	return nil
}

// Release shuts a remote down: its gRPC server and the streams peers
// opened to it at once, then its endpoint manager (the streams it opened
// to peers, the actors that write them). protoactor-go bounds the second
// part itself (10 s); Release waits for it until ctx ends, and then
// returns ctx's error while the shutdown finishes on its own.
func Release(ctx context.Context, r *remote.Remote) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Not graceful first: a graceful stop would wait for the streams
		// peers keep open, which only end when the peers do.
		r.Shutdown(false)
		// Then graceful: with the server already stopped it only stops the
		// endpoint manager, which closes the outgoing streams.
		r.Shutdown(true)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("transport: release the remote: %w", ctx.Err())
	}
}
