package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// The floor of bench remote: protoactor-go's own remote request/response
// between two processes, with no kernel. The server process runs an echo
// actor; the client process asks it with RequestFuture and waits for each
// answer before the next, as a kernel's host waits for each round trip.
// Both use the transport the kernel's node uses (protoactor-go remote,
// gRPC streams, plaintext on loopback) and the message type its frames
// travel in (a protobuf BytesValue), so what the kernel adds is what
// separates the two figures.

// echoName is the echo actor's name on the bare server.
const echoName = "echo"

// echo answers every BytesValue with itself.
type echo struct{}

func (echo) Receive(c actor.Context) {
	if m, ok := c.Message().(*wrapperspb.BytesValue); ok {
		c.Respond(m)
	}
}

// bareSystem starts an actor system with the remote extension on a free
// loopback port, silent like the kernel's.
func bareSystem() (*actor.ActorSystem, *remote.Remote, error) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	rem := remote.NewRemote(sys, remote.Configure("127.0.0.1", 0))
	if err := startBare(rem); err != nil {
		sys.Shutdown()
		return nil, nil, err
	}
	return sys, rem, nil
}

// startBare starts the remote; it panics when it cannot listen.
func startBare(r *remote.Remote) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bare remote: listen: %v", p)
		}
	}()
	r.Start()
	return nil
}

// bareServer is the "bare-server" role: the echo actor, until stdin
// closes.
func bareServer(ctx context.Context, p *peerIO) error {
	sys, rem, err := bareSystem()
	if err != nil {
		return err
	}
	defer func() { rem.Shutdown(false); sys.Shutdown() }()
	if _, err := sys.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return echo{} }), echoName); err != nil {
		return err
	}
	p.answer(peerLine{Addr: sys.ProcessRegistry.Address}, nil)
	for {
		if _, ok := p.next(); !ok {
			return nil
		}
	}
}

// bareClient is the "bare-client" role: each "trips" request makes N
// round trips to the echo at Addr, one after another, and answers how
// long they took.
func bareClient(ctx context.Context, p *peerIO) error {
	sys, rem, err := bareSystem()
	if err != nil {
		return err
	}
	defer func() { rem.Shutdown(false); sys.Shutdown() }()
	p.answer(peerLine{Addr: sys.ProcessRegistry.Address}, nil)
	// A body of about a kernel frame's size (a deliver of ping(1) with
	// its seq, ack and sender), so the bytes on the wire are alike.
	// The same message each time: the floor measures the transport, not
	// allocation.
	msg := wrapperspb.Bytes(make([]byte, 200))
	for {
		l, ok := p.next()
		if !ok {
			return nil
		}
		if l.Op != "trips" {
			p.answer(peerLine{}, unknownOp(l.Op))
			continue
		}
		pid := actor.NewPID(l.Addr, echoName)
		// A RequestFuture waits for its answer as the kernel's host waits for
		// its promise; ten seconds only so that a lost answer fails the round.
		ns, err := inWindow(l.N, l.Window, func(int) error {
			_, err := sys.Root.RequestFuture(pid, msg, 10*time.Second).Result()
			return err
		})
		p.answer(peerLine{NS: ns}, err)
	}
}

// pongVat is the bench's vat: ping(x) answers x.
func pongVat(*vat.Context) (any, error) {
	return vat.Far("pong", vat.Methods{
		"ping": func(c *vat.Call) (any, error) { return c.Arg(0), nil },
	}), nil
}

// benchOp is the kernel role's bench request: "trips" makes N round
// trips, ping(i) to the presence KRef, one after another, and answers
// how long they took.
func (p *peerKernel) benchOp(ctx context.Context, l peerLine) (peerLine, error, bool) {
	if l.Op != "trips" {
		return peerLine{}, nil, false
	}
	ns, err := inWindow(l.N, l.Window, func(i int) error {
		// A different argument each time, checked on return: an answer that
		// went to the wrong promise fails the bench.
		methargs, err := marshal.Encode([]any{"ping", []any{int64(i)}})
		if err != nil {
			return err
		}
		v, err := p.call(ctx, kernel.KRef(l.KRef), methargs)
		if err != nil {
			return fmt.Errorf("round trip %d: %w", i, err)
		}
		if v != int64(i) {
			return fmt.Errorf("round trip %d: ping(%d) answered %v", i, i, v)
		}
		return nil
	})
	return peerLine{NS: ns}, err, true
}

// inWindow makes n round trips with trip, window of them in flight at
// once (each of window goroutines makes its share one after another;
// window 1 is strictly one after another), and returns how long all took.
func inWindow(n, window int, trip func(i int) error) (int64, error) {
	window = max(1, min(window, n))
	began := time.Now()
	errs := make(chan error, window)
	// Round trip i belongs to goroutine i mod window, so each goroutine's
	// share is one after another and the window is never exceeded.
	for w := range window {
		go func() {
			var err error
			for i := w; i < n && err == nil; i += window {
				err = trip(i)
			}
			errs <- err
		}()
	}
	var first error
	for range window {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return int64(time.Since(began)), first
}
