package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"go.opentelemetry.io/otel/trace"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
	"github.com/ocapgo/kernel-actors/remote/transport"
	"github.com/ocapgo/kernel-actors/vat"
)

// Kernel is a running kernel: the handle a host uses. Its methods are safe
// for concurrent use; each is a request to the kernel actor, handled
// between cranks, and each blocks until it is answered or ctx ends.
type Kernel struct {
	cfg        Config
	sys        *actor.ActorSystem
	ownSystem  bool
	pid        *actor.PID
	interrupts chan kernel.VatID // vats the host is terminating, for the delivery pump
	// ended is closed, once, when the kernel stops taking work: at Stop,
	// or when it stops itself; endErr (written before the close) says why.
	ended   chan struct{}
	endOnce sync.Once
	endErr  error

	// The stop (stop.go). cut ends the crank deliveries in hand, for a
	// Stop whose context has ended. closed is closed by the kernel actor
	// once it has closed the store, closeErr (written before) saying how
	// that went; done is closed after it, and from then on every request
	// fails at once with ErrStopped. stopped is closed when the whole stop
	// is over, stopErr (written before) being what every Stop returns.
	cut       context.CancelFunc
	cutCtx    context.Context
	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
	stopOnce  sync.Once
	stopped   chan struct{}
	stopErr   error

	mu       sync.Mutex
	services map[string]vat.Methods

	// rem is the kernel's network side (remote.go), nil without
	// Config.Remote; Stop releases it.
	rem *remoteNode

	// tel is the telemetry (telemetry.go), nil without a MeterProvider;
	// host requests are counted on the caller's goroutine.
	tel *kernelTelemetry
}

// ErrStopped is returned by requests to a kernel that has stopped (or that
// stopped itself after a store failure or a kernel bug).
var ErrStopped = errors.New("actors: kernel stopped")

// ErrVatNotRunning: PingVat found no actor for the vat: it was terminated,
// or it is waiting out a restart backoff.
var ErrVatNotRunning = errors.New("actors: vat is not running")

// Start starts a kernel: it opens (or creates) the store, and if the store
// already holds vats, resumes them: every vat is rebuilt from the registry
// by bundle name, the run queue picks up where it stopped, and bootstrap
// is not sent again. A vat whose bundle is not registered makes Start
// fail, naming it.
func Start(ctx context.Context, cfg Config) (*Kernel, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Remote != nil {
		// INVARIANT: one remote-enabled kernel per process (ErrRemoteInProcess).
		if !remoteClaimed.CompareAndSwap(false, true) {
			return nil, ErrRemoteInProcess
		}
		k, err := start(ctx, cfg)
		if err != nil {
			remoteClaimed.Store(false)
		}
		return k, err
	}
	return start(ctx, cfg)
}

// start is Start once the config is valid and, for a kernel with a
// remote, the process's remote is claimed.
func start(ctx context.Context, cfg Config) (*Kernel, error) {
	// The vat names of per-vat series come from the kernel, made below.
	var kk *kernel.Kernel
	tel, err := newTelemetry(cfg, func(id string) string {
		info, _ := kk.Vat(kernel.VatID(id))
		return info.Name
	})
	if err != nil {
		return nil, err
	}
	faults := cfg.StoreFaults
	// The probe times a file store's flushes, for the metrics and for the
	// commit waits of traces. An in-memory store's flushes pass no probe
	// at all: they are a fold from map to map, with no backend to wait
	// for, and the probe's two clock readings a flush would cost a crank
	// more than its flush (a span then has no kernel.commit_wait).
	if tel != nil && cfg.DBPath != "" {
		faults = tel.probe // which passes every point on to StoreFaults
	}
	st, err := sqlitestore.Open(ctx, cfg.DBPath, persistence.Options{
		Policy: cfg.CommitPolicy, GroupCranks: cfg.GroupCranks, GroupInterval: cfg.GroupInterval,
		Synchronous: cfg.Synchronous, Now: cfg.Clock.Now, Reset: cfg.ResetStorage,
		Faults: faults, Trace: cfg.StoreTrace,
	})
	if err != nil {
		tel.close()
		return nil, err
	}
	if tel != nil {
		tel.probe.Stats = st.Stats
	}
	kk, err = kernel.New(kernel.Config{Store: st, Logger: cfg.Logger.With().Str("component", "kernel").Logger(),
		CrankMethods:   cfg.TracerProvider != nil, // for the spans' kernel.method
		QuietCranks:    true,                      // the kernel actor writes each crank's line, with its duration
		MaxVatstoreKey: cfg.MaxVatstoreKey, MaxVatstoreValue: cfg.MaxVatstoreValue,
		MaxDeliverySends: cfg.MaxDeliverySends, MaxDeliverySyscalls: cfg.MaxDeliverySyscalls, MaxDeliveryBytes: cfg.MaxDeliveryBytes,
		MaxIdempotencyKeys: cfg.MaxIdempotencyKeys,
		Now:                cfg.Clock.Now})
	if err != nil {
		st.Close(ctx)
		tel.close()
		return nil, err
	}
	var rn *remoteNode
	if cfg.Remote != nil {
		if rn, err = newRemoteNode(&cfg, kk, remoteSlog(cfg)); err != nil {
			st.Close(ctx)
			tel.close()
			return nil, err
		}
	}
	h := &Kernel{cfg: cfg, tel: tel, sys: cfg.System, rem: rn, interrupts: make(chan kernel.VatID, 64),
		ended: make(chan struct{}), closed: make(chan struct{}), done: make(chan struct{}),
		stopped: make(chan struct{}), services: map[string]vat.Methods{}}
	for name, m := range cfg.Services {
		h.services[name] = m
	}
	if h.sys == nil {
		h.sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
			if cfg.Slog != nil {
				return cfg.Slog.With("component", "protoactor") // slog already: no bridge
			}
			return slogToZerolog(cfg.Logger.With().Str("component", "protoactor").Logger())
		}))
		h.ownSystem = true
	}
	if rn != nil {
		// Listening before the kernel actor exists: a frame that comes
		// first is a dead letter, and its sender sends it again.
		if err := rn.listen(h.sys); err != nil {
			st.Close(ctx)
			tel.close()
			if h.ownSystem {
				h.sys.Shutdown()
			}
			return nil, err
		}
	}
	kctx, cancel := context.WithCancel(context.Background())
	// The crank deliveries' context: the kernel's, and cut short by a Stop
	// whose own context has ended (stop.go).
	h.cutCtx, h.cut = context.WithCancel(kctx)
	ka := &kernelActor{
		h: h, cfg: cfg, log: cfg.Logger.With().Str("component", "actors").Logger(), st: st, k: kk,
		ctx: kctx, stop: cancel, vats: map[kernel.VatID]*vatHandle{},
		waiters:     map[kernel.KRef][]waiter{},
		interrupted: map[kernel.VatID]bool{},
		pager:       pager{max: cfg.MaxLiveVats},
		tel:         tel,
		crankLog:    cfg.Logger.With().Str("component", "kernel").Logger(),
		rem:         rn,
	}
	ka.debugCranks = ka.crankLog.Debug().Enabled()
	if rn == nil {
		props := actor.PropsFromProducer(func() actor.Actor { return ka }, actor.WithSupervisor(ka))
		h.pid = h.sys.Root.SpawnPrefix(props, "kernel")
	} else {
		// Under the link's name: peers address their frames to it.
		props := actor.PropsFromProducer(func() actor.Actor { return ka },
			append([]actor.PropsOption{actor.WithSupervisor(ka)}, rn.dispatcher()...)...)
		pid, err := h.sys.Root.SpawnNamed(props, transport.LinkName)
		if err != nil {
			rn.stopDispatcher()
			cancel()
			st.Close(ctx)
			tel.close()
			rn.release(ctx)
			if h.ownSystem {
				h.sys.Shutdown()
			}
			return nil, fmt.Errorf("actors: Config.Remote: the kernel actor's name %q is taken in this actor system: %w", transport.LinkName, err)
		}
		h.pid = pid
	}
	if _, err := h.ask(ctx, &resumeReq{replier: newReplier()}); err != nil {
		h.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	if rn != nil {
		if err := h.setUpLocalPeer(ctx); err != nil {
			h.Stop(context.WithoutCancel(ctx))
			return nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Services)) {
		if _, err := h.ask(ctx, &registerServiceReq{replier: newReplier(), name: name}); err != nil {
			h.Stop(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("actors: service %q: %w", name, err)
		}
	}
	return h, nil
}

// Done returns a channel that is closed when the kernel stops taking
// work: at Stop, or when it stops itself after a store failure or a
// kernel bug (a broken invariant), when memory may be ahead of the file.
// From then on every request fails with ErrStopped; reopening the store
// resumes from what was committed. A host that runs a kernel as a service
// watches Done and exits, loudly, rather than answering ErrStopped
// forever. Stop must still be called to close the store.
func (k *Kernel) Done() <-chan struct{} { return k.ended }

// Err is nil while the kernel takes work. Once Done is closed it is
// ErrStopped after Stop, or an error wrapping ErrStopped that says why
// the kernel stopped itself (a later Stop does not change it).
func (k *Kernel) Err() error {
	select {
	case <-k.ended:
		return k.endErr
	default:
		return nil
	}
}

// end records why the kernel stopped taking work and closes Done; the
// first reason stays.
func (k *Kernel) end(err error) {
	k.endOnce.Do(func() {
		k.endErr = err
		close(k.ended)
	})
}

// System is the actor system the kernel lives in: Config.System, or the
// one Start made (which Stop shuts down).
func (k *Kernel) System() *actor.ActorSystem { return k.sys }

// PID is the kernel actor's PID, for watching it. Its messages are
// private; talk to it through Kernel's methods.
func (k *Kernel) PID() *actor.PID { return k.pid }

// ask sends a request to the kernel actor and waits for its answer, until
// ctx ends or the kernel stops taking work (Done). A kernel that stops
// itself answers every request it still holds (fail), but not the one
// whose handling panicked: without Done, its caller would wait until its
// context ran out, and forever with context.Background.
func (k *Kernel) ask(ctx context.Context, req request) (any, error) {
	if k.tel != nil {
		v, err := k.askUncounted(ctx, req)
		k.tel.observeHost(req, err)
		return v, err
	}
	return k.askUncounted(ctx, req)
}

// askUncounted is ask without the host request counter.
func (k *Kernel) askUncounted(ctx context.Context, req request) (any, error) {
	select {
	case <-k.done:
		return nil, ErrStopped
	default:
	}
	k.sys.Root.Send(k.pid, req)
	select {
	case r := <-req.answer():
		return r.v, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-k.done:
		return nil, ErrStopped
	case <-k.ended:
		// An answer given before the kernel ended wins: select picks at
		// random among ready cases, and the request may have been served.
		select {
		case r := <-req.answer():
			return r.v, r.err
		default:
			return nil, k.Err()
		}
	}
}

// LaunchSubcluster launches a subcluster: it records its vats, starts each
// (in name order), and sends the bootstrap vat's root bootstrap(vats,
// services), where vats maps the config's names to the vats' roots and
// services the requested services to their objects. It returns once
// bootstrap has settled, with its result. If a vat fails to start, or
// bootstrap fails, the error names the vat and wraps the cause, and the
// subcluster is terminated: nothing is left half-launched.
func (k *Kernel) LaunchSubcluster(ctx context.Context, cfg kernel.ClusterConfig) (kernel.LaunchResult, error) {
	v, err := k.ask(ctx, &launchReq{replier: newReplier(), cfg: cfg})
	if err != nil {
		return kernel.LaunchResult{}, err
	}
	return v.(kernel.LaunchResult), nil
}

// TerminateSubcluster terminates every vat of a subcluster and forgets it.
func (k *Kernel) TerminateSubcluster(ctx context.Context, id kernel.SubclusterID) error {
	_, err := k.ask(ctx, &terminateSubclusterReq{replier: newReplier(), id: id})
	return err
}

// QueueMessage sends method(args...) from the host to target and waits for
// the result. Arguments are passable values (see package marshal), with
// kernel.KRef values passing as references; references in the result come
// back as kernel.KRef (each object one pinned for the host: see Release). A rejection is a Go error: a *kernel.Error, matched
// with errors.Is against the kernel's codes (kernel.ErrObjectDeleted, ...),
// or a *kernel.RejectionError carrying the vat's own error.
func (k *Kernel) QueueMessage(ctx context.Context, target kernel.KRef, method string, args ...any) (any, error) {
	return k.ask(ctx, &queueMessageReq{replier: newReplier(), target: target, method: method, args: args,
		span: trace.SpanContextFromContext(ctx)})
}

// QueueMessageOnce is QueueMessage with an idempotency key, for a caller
// that may send again after losing the reply (a broken connection, a
// crash on either side): the first call with key queues the message; any
// later call with the same key and the same message queues nothing and
// answers with the first call's result, waiting for it if it has not
// settled. The key is recorded in the same transaction as the message,
// so it survives exactly when the message does. The same key with a
// different message fails with kernel.ErrIdempotencyKeyReused. The kernel
// keeps the newest keys (Config.MaxIdempotencyKeys).
func (k *Kernel) QueueMessageOnce(ctx context.Context, key string, target kernel.KRef, method string, args ...any) (any, error) {
	return k.ask(ctx, &queueMessageReq{replier: newReplier(), key: key, target: target, method: method, args: args,
		span: trace.SpanContextFromContext(ctx)})
}

// TerminateVat terminates a vat: the promises it decides are rejected, its
// objects orphaned, its actor stopped. If the vat is in the middle of a
// delivery, the delivery is abandoned (and rolled back) at once.
func (k *Kernel) TerminateVat(ctx context.Context, id kernel.VatID, reason string) error {
	select {
	case k.interrupts <- id:
	default:
	}
	_, err := k.ask(ctx, &terminateVatReq{replier: newReplier(), vat: id, reason: reason})
	return err
}

// RestartVat restarts a vat from its durable state, as a new incarnation.
func (k *Kernel) RestartVat(ctx context.Context, id kernel.VatID) error {
	_, err := k.ask(ctx, &restartVatReq{replier: newReplier(), vat: id})
	return err
}

// UpgradeVat restarts a vat on new code: bundle, from the registry. The
// new code must re-define the vat's durable kinds; if it fails to start,
// the error says why and the vat keeps running its old code.
func (k *Kernel) UpgradeVat(ctx context.Context, id kernel.VatID, bundle string) error {
	_, err := k.ask(ctx, &upgradeVatReq{replier: newReplier(), vat: id, bundle: bundle})
	return err
}

// PingVat checks that a vat's actor answers; it returns its incarnation.
func (k *Kernel) PingVat(ctx context.Context, id kernel.VatID) (int64, error) {
	v, err := k.ask(ctx, &pingVatReq{replier: newReplier(), vat: id})
	if err != nil {
		return 0, err
	}
	return v.(int64), nil
}

// Revoke revokes an object: messages sent to it from now on are rejected
// with OBJECT_REVOKED.
func (k *Kernel) Revoke(ctx context.Context, kref kernel.KRef) error {
	_, err := k.ask(ctx, &revokeReq{replier: newReplier(), kref: kref})
	return err
}

// IsRevoked reports whether an object has been revoked.
func (k *Kernel) IsRevoked(ctx context.Context, kref kernel.KRef) (bool, error) {
	v, err := k.ask(ctx, &isRevokedReq{replier: newReplier(), kref: kref})
	if err != nil {
		return false, err
	}
	return v.(bool), nil
}

// Release lets go of an object the host received in a result. Every
// object a QueueMessage or bootstrap result names is pinned for the host
// so its kref stays usable however long the host keeps it; Release drops
// one such pin (one per result that named it), after which the object is
// collected once nothing else holds it. Releasing an object that holds
// no pin is ErrUnknownRef.
func (k *Kernel) Release(ctx context.Context, kref kernel.KRef) error {
	_, err := k.ask(ctx, &releaseReq{replier: newReplier(), kref: kref})
	return err
}

// ScheduleReap asks a vat to collect its garbage and report what it no
// longer holds, in a crank of its own.
func (k *Kernel) ScheduleReap(ctx context.Context, id kernel.VatID) error {
	_, err := k.ask(ctx, &reapReq{replier: newReplier(), vat: id})
	return err
}

// RegisterService makes a host service available to vats: subclusters
// whose config lists name in Services get its object in bootstrap's
// services record, and call it like any object; methods run in the
// kernel's services vat (as vat code: they may use E and Await). The
// service's object is durable and pinned: after a restart, register the
// same name again (or list it in Config.Services) and vats that hold it
// reach the new methods.
func (k *Kernel) RegisterService(ctx context.Context, name string, methods vat.Methods) error {
	if name == "" || methods == nil {
		return fmt.Errorf("%w: a service needs a name and methods", ErrConfig)
	}
	k.mu.Lock()
	k.services[name] = methods
	k.mu.Unlock()
	_, err := k.ask(ctx, &registerServiceReq{replier: newReplier(), name: name})
	return err
}

func (k *Kernel) service(name string) vat.Methods {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.services[name]
}

// VatLog returns the lifecycle log of a vat ("" for all vats): every
// termination, failure, restart and upgrade, with its reason.
func (k *Kernel) VatLog(ctx context.Context, id kernel.VatID) ([]persistence.VatEvent, error) {
	v, err := k.ask(ctx, &vatLogReq{replier: newReplier(), vat: id})
	if err != nil {
		return nil, err
	}
	evs, _ := v.([]persistence.VatEvent)
	return evs, nil
}

// Status describes the kernel.
type Status struct {
	Vats        []kernel.VatInfo
	Subclusters []kernel.SubclusterInfo
	QueueLength int
	// Cranks is the number of cranks committed, in the store's whole life.
	Cranks uint64
	// CrankMessages counts the runCrank messages this process handled, and
	// CranksRun the cranks they ran (committed or aborted): one each.
	CrankMessages, CranksRun uint64
	CommitPolicy             persistence.CommitPolicy
	DBPath                   string
	// LiveVats is how many vat instances (actors, heaps, worker
	// processes) are alive, and PagedOut the active vats whose instance
	// is paged out (docs/paging.md), in id order; PagedOutCount and
	// PagedInCount count this process's page-outs and page-ins.
	LiveVats                    int
	PagedOut                    []kernel.VatID
	PagedOutCount, PagedInCount uint64
	// Peer is the kernel's identity on the network (LocalPeer), nil for
	// a kernel without Config.Remote.
	Peer *Peer
}

// WaitIdle returns once the kernel is quiescent: the run queue and GC work
// are empty, no vat restart is pending, and every committed crank is in
// the file. Work that arrives later is not waited for; a vat awaiting a
// promise nobody will settle does not keep the kernel busy.
func (k *Kernel) WaitIdle(ctx context.Context) error {
	_, err := k.ask(ctx, &waitIdleReq{replier: newReplier()})
	return err
}

// ReadStore runs fn on the kernel's store between cranks, on the kernel
// actor's goroutine, and returns its error: a consistent view for
// inspectors (package kernel's Describe functions, kernel.Audit). fn must
// only read, and return quickly: the kernel waits for it.
func (k *Kernel) ReadStore(ctx context.Context, fn func(st *persistence.Store) error) error {
	_, err := k.ask(ctx, &readStoreReq{replier: newReplier(), fn: fn})
	return err
}

// Status describes the kernel now.
func (k *Kernel) Status(ctx context.Context) (Status, error) {
	v, err := k.ask(ctx, &statusReq{replier: newReplier()})
	if err != nil {
		return Status{}, err
	}
	return v.(Status), nil
}
