package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/console"
	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/telemetry/providers"
)

// shutdownGrace bounds how long serve waits for requests in flight when
// told to stop.
//
// Ten seconds is longer than any ordinary request takes and short
// enough that a supervisor's stop (systemd waits 90s by default) is
// never the one that kills serve; past it, stragglers are cut off
// rather than let one slow client hold the kernel open.
const shutdownGrace = 10 * time.Second

// errKernelStopped is wrapped by serve's error when its kernel stopped
// itself.
//
// A sentinel so the caller (and tests) can tell a kernel that failed on
// its own from a serve that was told to stop or could not start.
var errKernelStopped = errors.New("the kernel stopped itself")

// runServe is the serve command: a kernel behind the control API until
// ctx ends or the kernel stops itself. Its files (PATH.pid, PATH.token,
// PATH.addr) are written in the order that makes PATH.addr the readiness
// signal, and removed at stop.
func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "--db PATH [--listen ADDR] [--commit POLICY] [--node PATH] [--js-worker DIR] [--js-bundle-cache DIR] [--js-warm N] [--max-live-vats N] [--otlp URL] [--remote-listen HOST:PORT [--remote-advertise HOST:PORT] [--remote-insecure-loopback] [--remote-give-up D] [--remote-key PATH] [--remote-max-introduced N]] [-v] [limits]", `
Runs a kernel on the database PATH as a daemon with the control API over
HTTP/JSON: launch subclusters, send messages, status, terminate, restart
and upgrade vats, revoke objects, inspect. GET /healthz (the process is
up), /readyz (the kernel runs and its store takes writes) and /metrics (the
kernel's metrics, Prometheus text) need no token and carry only counts.
/ui is a live web console: its page needs no token and asks for it, and
everything it shows comes from the API with that token (docs/console.md).
--otlp URL also sends a span per crank and the metrics to an OpenTelemetry
collector's OTLP/HTTP receiver (http://127.0.0.1:4318). It listens on loopback unless
told otherwise, and every request needs the bearer token serve writes to
PATH.token (mode 0600; a new one at each start); it also writes the address
it listens on to PATH.addr, where the client commands look with --db. Both
are replaced atomically, and a path that is a symbolic link is refused.

PATH.addr is the readiness signal: it is written last, once the kernel
runs and the socket listens. Before anything slow, serve writes its
process id to PATH.pid, so that a client started at the same moment (a
script's "serve &" and then a client) waits for PATH.addr, within its
--timeout, rather than fail. At stop, PATH.addr and PATH.token are removed
first and PATH.pid last; a second serve on the same PATH is refused.

An existing database is audited first (every count recomputed from
scratch); one that fails is refused, naming the first problems, unless
--skip-audit.

Each connection is bounded: its headers must arrive within 10s and the
whole request within --read-timeout, a kept-alive connection closes after
--idle-timeout, and past --max-conns connections one more is answered 503.

A launched vat with a bundleSpec (JavaScript) runs in a Node.js worker
process: --node and --js-worker say where Node and the worker are. No
worker starts until such a vat launches or resumes (or --js-warm N asks
for some ahead), so a daemon of Go vats never needs Node; from then on
one worker is kept started ahead of need (--js-warm auto, the default),
so the next launch or restart skips the process start.

SIGTERM or SIGINT stops it cleanly: no new requests, the current crank
finishes and commits, and the database is closed. If the kernel stops
itself (a store failure, a broken invariant), serve says why on stderr and
exits 1: what was committed is in the file, and a new serve resumes it.

--remote-listen HOST:PORT puts the kernel on a network of kernels: it
listens for peer kernels there, over mutual TLS from its key (PATH.key,
or --remote-key), and its vats can hold and use objects in the others
(docs/remote.md). "kernel-actors remotes" adds and lists its peers.`)
	// --db has no default: the token and address files live beside it, so
	// a default path would let two unrelated daemons share (and clobber)
	// one another's files.
	db := fs.String("db", "", "the kernel's SQLite file (created if missing); required")
	// Loopback by default: the control API grants full authority over the
	// kernel, so reaching beyond the machine must be asked for by name.
	listen := fs.String("listen", DefaultAddr, "address to listen on (port 0 picks a free one)")
	// Durable by default: a daemon answers clients with results, and a
	// result it reported must not be lost by a crash; group is a speed
	// trade a user opts into.
	commit := fs.String("commit", string(persistence.Durable), `commit policy: "durable" (every crank) or "group"`)
	// The defaults for body size and timeouts come from control so that
	// the library and the binary bound clients the same way.
	maxBody := fs.Int64("max-body", control.DefaultMaxBody, "largest request body accepted, in bytes")
	readTimeout := fs.Duration("read-timeout", control.DefaultReadTimeout, "longest a client may take to send a whole request")
	idleTimeout := fs.Duration("idle-timeout", control.DefaultIdleTimeout, "longest a kept-alive connection may sit between requests")
	requestTimeout := fs.Duration("request-timeout", control.DefaultTimeout, "longest a request waits for the kernel (a send, for its result); then 504")
	maxConns := fs.Int("max-conns", control.DefaultMaxConns, "most connections open at once")
	// Audit on by default: a damaged file refused at start is far cheaper
	// than a kernel that resumes on wrong counts and frees live objects.
	skipAudit := fs.Bool(skipAuditFlag, false, skipAuditUsage)
	verbose := fs.Bool("v", false, "log requests and the kernel's work to stderr")
	// No collector by default: a daemon that sent to one nobody runs would
	// log export failures forever.
	otlp := fs.String("otlp", "", "an OpenTelemetry collector's OTLP/HTTP receiver (http://HOST:4318) to send spans (one per crank) and metrics to")
	var jf jsFlags
	jf.register(fs)
	var pf pagingFlag
	pf.register(fs)
	var rf remoteFlags
	rf.register(fs)
	// "auto" by default: none until a JavaScript vat runs, so a daemon of
	// Go vats never starts Node, then one, since a daemon that has run one
	// is likely to launch or restart another and a warm worker spares that
	// launch the process start (about half of a cold one).
	jsWarm := fs.String("js-warm", "auto", "JavaScript vat workers to keep started ahead of need, so a launch or restart skips the process start (each costs an idle worker's memory): N, or auto for none until a JavaScript vat runs and 1 from then on")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if err := pf.check(); err != nil {
		return err
	}
	remoteCfg, err := rf.config(fs)
	if err != nil {
		return err
	}
	if *otlp != "" {
		// Checked before anything starts, as a usage error: the exporter
		// itself would keep its default endpoint, silently.
		if err := providers.CheckEndpoint(*otlp); err != nil {
			return usageErr("--otlp %q: %v", *otlp, err)
		}
	}
	// INVARIANT: serve never runs without --db, so its token file always
	// has a home the user chose and can protect.
	if *db == "" {
		return usageErr("--db is required (the daemon keeps its state, and its token, beside that file)")
	}
	// Zero or negative limits would refuse every request or none; both
	// are mistakes better named at start than discovered by clients.
	if *maxBody <= 0 {
		return usageErr("--max-body %d: must be above 0", *maxBody)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"read-timeout", *readTimeout}, {"idle-timeout", *idleTimeout}, {"request-timeout", *requestTimeout}} {
		if f.d <= 0 {
			return usageErr("--%s %v: must be above 0", f.name, f.d)
		}
	}
	// Zero would make the daemon answer 503 to everyone, forever.
	if *maxConns <= 0 {
		return usageErr("--max-conns %d: must be above 0", *maxConns)
	}
	warm, warmOnUse, err := parseJSWarm(*jsWarm)
	if err != nil {
		return err
	}
	policy, err := commitPolicy(*commit)
	if err != nil {
		return err
	}
	// The host is checked only to warn, not refuse: serving a network is
	// legitimate (in a container, behind a proxy), but it should never
	// happen by accident.
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return usageErr("--listen %q: want HOST:PORT (%v)", *listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(e.stderr, "%s serve: warning: listening on %s, beyond this machine; the token is the only guard\n", e.name, *listen)
	}
	// Before anything slow: from here on a client waits for this serve.
	//
	// INVARIANT: PATH.pid is claimed before the audit and the kernel start,
	// so a second serve on the same PATH is refused before it can open the
	// file, and a client that sees PATH.pid knows a daemon is coming.
	release, err := control.ClaimPID(*db)
	if err != nil {
		return err
	}
	// Released last of all (defers run in reverse): the pid outlives the
	// token and address, so no client sees "no daemon" while one still
	// stops.
	defer release()
	// Before the kernel opens the file: resume would already change it.
	if !*skipAudit {
		if err := auditDB(ctx, e, *db); err != nil {
			return err
		}
	}
	// Silent unless -v: a daemon's stderr is often a journal, and a log
	// line per request would drown the one line that says why it stopped.
	log := logger(e, *verbose)
	reg := e.reg
	// No warm worker unless asked: a daemon of Go vats starts no Node
	// process, and a JavaScript vat's worker starts with its launch (a
	// cluster's beside one another).
	js, err := jf.runtime(e, warm, warmOnUse)
	if err != nil {
		return err
	}
	defer js.Close() // after the kernel's Stop, deferred below
	// The kernel's metrics, for /metrics: always on in the daemon, since
	// a scrape of an idle kernel costs a few atomic loads, and the crank
	// path's share is measured (docs/observability.md).
	// The console's hub (docs/console.md) reads the flush durations from a
	// reader of its own on the same provider, and hears every crank.
	hub := console.New(console.Options{})
	defer hub.Close() // also at the HTTP server's Shutdown, registered below
	tel, err := providers.New(ctx, providers.Options{OTLPEndpoint: *otlp, Readers: []sdkmetric.Reader{hub.Reader()}})
	if err != nil {
		return err
	}
	// After the kernel's Stop (deferred below, so run before this): the
	// last cranks' measurements are still exported.
	defer tel.Shutdown(context.WithoutCancel(ctx))
	// The kernel starts (and resumes) before the token and address are
	// written: a client that finds them finds a kernel behind them.
	kcfg := actors.Config{DBPath: *db, Registry: reg, CommitPolicy: policy, Logger: log, JS: js, MaxLiveVats: pf.max,
		MeterProvider: tel.MeterProvider, OnCrankDone: hub.OnCrankDone, Remote: remoteCfg}
	if tel.TracerProvider != nil { // never a typed nil: that would trace into nothing
		kcfg.TracerProvider = tel.TracerProvider
	}
	k, err := actors.Start(ctx, kcfg)
	if err != nil {
		return err
	}
	// WithoutCancel: ctx is already cancelled when serve is told to stop,
	// and a cancelled context would cut the final commit short.
	defer k.Stop(context.WithoutCancel(ctx))
	hub.Start(k)

	// A new token at each start: one a client kept from an earlier run
	// (or stole from an old file) is worth nothing now.
	token, err := control.NewToken()
	if err != nil {
		return err
	}
	// INVARIANT: the token is written (mode 0600, atomically, never through
	// a symlink) before PATH.addr, so a client never finds an address
	// without the token that goes with it.
	if err := control.WriteToken(control.TokenPath(*db), token); err != nil {
		return err
	}
	// However serve ends, the token of a daemon that is gone does not stay
	// behind (a kill -9 leaves it; the next serve replaces it). Only what
	// serve wrote is removed: never a link planted in its place.
	defer os.Remove(control.TokenPath(*db))
	// The socket listens before PATH.addr exists, so a client that reads
	// the address can connect at once rather than race a refused dial.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", *listen, err)
	}
	// PATH.addr last: a client that finds it finds a daemon listening,
	// with its token already in place.
	addr := ln.Addr().String()
	// INVARIANT: PATH.addr is written last; its existence means ready.
	// The address actually bound is written, not --listen, so port 0
	// gives clients the port the kernel picked.
	if err := control.WritePrivate(control.AddrPath(*db), []byte(addr+"\n")); err != nil {
		// Without PATH.addr no client can find the daemon, so serving on would
		// only hold the port.
		ln.Close()
		return err
	}
	defer os.Remove(control.AddrPath(*db)) // no file, no daemon: clients say so rather than guess
	cs := &control.Server{Kernel: k, Token: token, Registry: reg, MaxBody: *maxBody, Logger: log,
		Timeout: *requestTimeout, ReadTimeout: *readTimeout, IdleTimeout: *idleTimeout, MaxConns: *maxConns,
		Metrics: tel.Metrics, Console: hub}
	// The server's timeouts and the listener's connection bound are the
	// limits a client cannot get around (docs/control-api.md).
	//
	// The handler is built by control, not here, so the binary and any
	// program embedding the API enforce the same limits.
	srv := cs.HTTPServer()
	// Event streams never go idle, so Shutdown would wait out its grace
	// for them: the hub ends them as Shutdown begins.
	srv.RegisterOnShutdown(hub.Close)
	served := make(chan error, 1)
	// Buffered channel of one: Serve's error is kept even when serve has
	// already moved on to stopping and never reads it.
	go func() { served <- srv.Serve(cs.Listener(ln)) }()
	// The path of the token, never the token itself: stdout is often a log
	// that others can read.
	fmt.Fprintf(e.stdout, "%s serving %s on http://%s (token in %s)\n", e.name, *db, addr, control.TokenPath(*db))
	if remoteCfg != nil {
		// Both halves of what another kernel's host needs to add this one
		// as a peer (kernel-actors remotes add PEER ADDRESS).
		if me, err := k.LocalPeer(ctx); err == nil {
			fmt.Fprintf(e.stdout, "peer %s listening for kernels on %s\n", me.ID, me.Address)
		}
	}

	// broke holds why the kernel stopped itself, so it is the error serve
	// returns even after a clean shutdown of the rest.
	var broke error
	select {
	// Serve returns only on a listener failure: nothing can be answered,
	// so there is nothing to drain.
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		fmt.Fprintln(e.stdout, "stopping: finishing requests in flight and the current crank")
	case <-k.Done():
		// Answering 503 forever would hide it: the daemon goes, loudly,
		// and a supervisor (or a person) restarts it on the file.
		broke = fmt.Errorf("%w: %w; what was committed is in %s, and a new serve resumes it", errKernelStopped, k.Err(), *db)
		fmt.Fprintf(e.stdout, "stopping: %v\n", errKernelStopped)
	}
	// No client finds the daemon from here on: the ones that come wait
	// for a new serve (while this process lives) or say none runs.
	//
	// INVARIANT: PATH.addr and PATH.token are removed before draining, and
	// PATH.pid only after the kernel stops (the deferred release), so no
	// new client is handed a daemon that is going away.
	removeFiles(e, *db)
	// Two budgets: requests still in flight may use up theirs, and the
	// kernel still gets its own to finish the crank and close the file.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	// Requests in flight get the grace period to finish; their results are
	// real commits, and cutting them off would leave clients guessing.
	if err := srv.Shutdown(sctx); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return errors.Join(broke, fmt.Errorf("shutdown: %w", err))
		}
		srv.Close() // the stragglers' connections go; their requests get ErrStopped
	}
	kctx, kcancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer kcancel()
	// Stopped explicitly here, under its own budget, so that an error
	// closing the file is reported; the deferred Stop covers early returns.
	if err := k.Stop(kctx); err != nil {
		return errors.Join(broke, fmt.Errorf("stop the kernel: %w", err))
	}
	if broke != nil {
		return broke
	}
	fmt.Fprintln(e.stdout, "stopped")
	return nil
}

// removeFiles removes PATH.addr and PATH.token, saying on stderr what it
// could not remove (serve's own outcome stands).
func removeFiles(e *env, db string) {
	// A failed removal is a warning, not an error: the daemon did stop,
	// and the next serve replaces whatever was left.
	if err := control.RemoveFiles(db); err != nil {
		fmt.Fprintf(e.stderr, "%s serve: warning: %v\n", e.name, err)
	}
}
