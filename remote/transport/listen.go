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
	// The pump closes the connections it opened for refusals once their
	// pins go (refusal.go), by the path Release takes for every peer.
	p.closeEndpoint = func(addr string) { sys.EventStream.Publish(&remote.EndpointTerminatedEvent{Address: addr}) }
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

// endpointSupervisor is the name protoactor-go's remote gives the actor
// whose children are its endpoint writers and watchers.
const endpointSupervisor = "EndpointSupervisor"

// Release shuts a remote down: first the endpoints it opened to peers
// (the addresses in peers: each endpoint's writer closes its gRPC
// connection, by protoactor-go's own path for a peer that went away),
// then its gRPC server, whose listener closes at once, and the streams
// peers opened to it. Release waits until ctx ends, and then returns
// ctx's error while the shutdown finishes on its own.
//
// It does not stop protoactor-go's endpoint manager (a graceful
// Shutdown would): in the pinned version that stop races with the
// endpoint writers it stops (it clears a map they read) and with the
// incoming streams ending (it sends on a channel each one closes when it
// ends, so it can panic). The race detector reports both. Closing the
// outgoing connections matters as well: a connection left open keeps
// logging through gRPC's process-wide logger, which the next remote
// started in the process replaces; so Release also waits for the writers
// to have closed theirs.
func Release(ctx context.Context, sys *actor.ActorSystem, r *remote.Remote, peers []string) error {
	for _, addr := range peers {
		sys.EventStream.Publish(&remote.EndpointTerminatedEvent{Address: addr})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Shutdown(false)
		// INVARIANT: Release returns only once every endpoint writer has
		// closed its connection. A writer stops on the event above, but
		// on its own goroutine, and its connection's Close logs through
		// gRPC's process-wide logger: a remote started in this process
		// right after (a restarted kernel, the next test) writes that
		// logger, and the race detector caught the two. The writers are
		// children of protoactor-go's endpoint supervisor, so its
		// StopFuture answers once each has stopped and closed.
		_ = sys.Root.StopFuture(sys.NewLocalPID(endpointSupervisor)).Wait()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("transport: release the remote: %w", ctx.Err())
	}
}
