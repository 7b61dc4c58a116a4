package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/persistence"
)

// shutdownGrace bounds how long serve waits for requests in flight when
// told to stop.
const shutdownGrace = 10 * time.Second

// errKernelStopped is wrapped by serve's error when its kernel stopped
// itself.
var errKernelStopped = errors.New("the kernel stopped itself")

// runServe is the serve command: a kernel behind the control API until
// ctx ends or the kernel stops itself. Its files (PATH.pid, PATH.token,
// PATH.addr) are written in the order that makes PATH.addr the readiness
// signal, and removed at stop.
func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "--db PATH [--listen ADDR] [--commit POLICY] [--node PATH] [--js-worker DIR] [--js-bundle-cache DIR] [--js-warm N] [-v] [limits]", `
Runs a kernel on the database PATH as a daemon with the control API over
HTTP/JSON: launch subclusters, send messages, status, terminate, restart
and upgrade vats, revoke objects, inspect. It listens on loopback unless
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
worker starts until such a vat launches or resumes (or --js-warm asks
for some ahead), so a daemon of Go vats never needs Node.

SIGTERM or SIGINT stops it cleanly: no new requests, the current crank
finishes and commits, and the database is closed. If the kernel stops
itself (a store failure, a broken invariant), serve says why on stderr and
exits 1: what was committed is in the file, and a new serve resumes it.`)
	db := fs.String("db", "", "the kernel's SQLite file (created if missing); required")
	listen := fs.String("listen", DefaultAddr, "address to listen on (port 0 picks a free one)")
	commit := fs.String("commit", string(persistence.Durable), `commit policy: "durable" (every crank) or "group"`)
	maxBody := fs.Int64("max-body", control.DefaultMaxBody, "largest request body accepted, in bytes")
	readTimeout := fs.Duration("read-timeout", control.DefaultReadTimeout, "longest a client may take to send a whole request")
	idleTimeout := fs.Duration("idle-timeout", control.DefaultIdleTimeout, "longest a kept-alive connection may sit between requests")
	requestTimeout := fs.Duration("request-timeout", control.DefaultTimeout, "longest a request waits for the kernel (a send, for its result); then 504")
	maxConns := fs.Int("max-conns", control.DefaultMaxConns, "most connections open at once")
	skipAudit := fs.Bool(skipAuditFlag, false, skipAuditUsage)
	verbose := fs.Bool("v", false, "log requests and the kernel's work to stderr")
	var jf jsFlags
	jf.register(fs)
	jsWarm := fs.Int("js-warm", 0, "JavaScript vat workers to keep started ahead of need, so a launch or restart skips the process start (each costs an idle worker's memory; 1 suits a daemon that launches JavaScript vats on demand)")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *db == "" {
		return usageErr("--db is required (the daemon keeps its state, and its token, beside that file)")
	}
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
	if *maxConns <= 0 {
		return usageErr("--max-conns %d: must be above 0", *maxConns)
	}
	if *jsWarm < 0 {
		return usageErr("--js-warm %d: must not be negative", *jsWarm)
	}
	policy, err := commitPolicy(*commit)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return usageErr("--listen %q: want HOST:PORT (%v)", *listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(e.stderr, "%s serve: warning: listening on %s, beyond this machine; the token is the only guard\n", e.name, *listen)
	}
	// Before anything slow: from here on a client waits for this serve.
	release, err := control.ClaimPID(*db)
	if err != nil {
		return err
	}
	defer release()
	// Before the kernel opens the file: resume would already change it.
	if !*skipAudit {
		if err := auditDB(ctx, e, *db); err != nil {
			return err
		}
	}
	log := logger(e, *verbose)
	reg := e.reg
	// No warm worker unless asked: a daemon of Go vats starts no Node
	// process, and a JavaScript vat's worker starts with its launch (a
	// cluster's beside one another).
	js, err := jf.runtime(e, *jsWarm)
	if err != nil {
		return err
	}
	defer js.Close() // after the kernel's Stop, deferred below
	k, err := actors.Start(ctx, actors.Config{DBPath: *db, Registry: reg, CommitPolicy: policy, Logger: log, JS: js})
	if err != nil {
		return err
	}
	defer k.Stop(context.WithoutCancel(ctx))

	// A new token at each start: one a client kept from an earlier run
	// (or stole from an old file) is worth nothing now.
	token, err := control.NewToken()
	if err != nil {
		return err
	}
	if err := control.WriteToken(control.TokenPath(*db), token); err != nil {
		return err
	}
	// However serve ends, the token of a daemon that is gone does not stay
	// behind (a kill -9 leaves it; the next serve replaces it). Only what
	// serve wrote is removed: never a link planted in its place.
	defer os.Remove(control.TokenPath(*db))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", *listen, err)
	}
	// PATH.addr last: a client that finds it finds a daemon listening,
	// with its token already in place.
	addr := ln.Addr().String()
	if err := control.WritePrivate(control.AddrPath(*db), []byte(addr+"\n")); err != nil {
		ln.Close()
		return err
	}
	defer os.Remove(control.AddrPath(*db)) // no file, no daemon: clients say so rather than guess
	cs := &control.Server{Kernel: k, Token: token, Registry: reg, MaxBody: *maxBody, Logger: log,
		Timeout: *requestTimeout, ReadTimeout: *readTimeout, IdleTimeout: *idleTimeout, MaxConns: *maxConns}
	// The server's timeouts and the listener's connection bound are the
	// limits a client cannot get around (docs/control-api.md).
	srv := cs.HTTPServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(cs.Listener(ln)) }()
	fmt.Fprintf(e.stdout, "%s serving %s on http://%s (token in %s)\n", e.name, *db, addr, control.TokenPath(*db))

	var broke error
	select {
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
	removeFiles(e, *db)
	// Two budgets: requests still in flight may use up theirs, and the
	// kernel still gets its own to finish the crank and close the file.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return errors.Join(broke, fmt.Errorf("shutdown: %w", err))
		}
		srv.Close() // the stragglers' connections go; their requests get ErrStopped
	}
	kctx, kcancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer kcancel()
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
	if err := control.RemoveFiles(db); err != nil {
		fmt.Fprintf(e.stderr, "%s serve: warning: %v\n", e.name, err)
	}
}
