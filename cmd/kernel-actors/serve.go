package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/internal/control"
	"github.com/ocapgo/kernel-actors/internal/demos/catalog"
	"github.com/ocapgo/kernel-actors/persistence"
)

// shutdownGrace bounds how long serve waits for requests in flight when
// told to stop.
const shutdownGrace = 10 * time.Second

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "--db PATH [--listen ADDR] [--commit POLICY] [-v]", `
Runs a kernel on the database PATH as a daemon with the control API over
HTTP/JSON: launch subclusters, send messages, status, terminate, restart
and upgrade vats, revoke objects, inspect. It listens on loopback unless
told otherwise, and every request needs the bearer token serve writes to
PATH.token (mode 0600; a new one at each start); it also writes the address
it listens on to PATH.addr, where the client commands look with --db.

SIGTERM or SIGINT stops it cleanly: no new requests, the current crank
finishes and commits, and the database is closed.`)
	db := fs.String("db", "", "the kernel's SQLite file (created if missing); required")
	listen := fs.String("listen", DefaultAddr, "address to listen on (port 0 picks a free one)")
	commit := fs.String("commit", string(persistence.Durable), `commit policy: "durable" (every crank) or "group"`)
	maxBody := fs.Int64("max-body", control.DefaultMaxBody, "largest request body accepted, in bytes")
	verbose := fs.Bool("v", false, "log requests and the kernel's work to stderr")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *db == "" {
		return usageErr("--db is required (the daemon keeps its state, and its token, beside that file)")
	}
	if *maxBody <= 0 {
		return usageErr("--max-body %d: must be above 0", *maxBody)
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
		fmt.Fprintf(e.stderr, "kernel-actors serve: warning: listening on %s, beyond this machine; the token is the only guard\n", *listen)
	}
	log := logger(e, *verbose)
	reg := catalog.Registry()
	k, err := actors.Start(ctx, actors.Config{DBPath: *db, Registry: reg, CommitPolicy: policy, Logger: log})
	if err != nil {
		return err
	}
	defer k.Stop(context.WithoutCancel(ctx))

	token, err := control.NewToken()
	if err != nil {
		return err
	}
	if err := control.WriteToken(control.TokenPath(*db), token); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", *listen, err)
	}
	addr := ln.Addr().String()
	if err := os.WriteFile(addrPath(*db), []byte(addr+"\n"), 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("write %s: %w", addrPath(*db), err)
	}
	defer os.Remove(addrPath(*db))
	srv := &http.Server{
		Handler:           (&control.Server{Kernel: k, Token: token, Registry: reg, MaxBody: *maxBody, Logger: log}).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(e.stdout, "kernel-actors serving %s on http://%s (token in %s)\n", *db, addr, control.TokenPath(*db))

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(e.stdout, "stopping: finishing requests in flight and the current crank")
	// Two budgets: requests still in flight may use up theirs, and the
	// kernel still gets its own to finish the crank and close the file.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("shutdown: %w", err)
		}
		srv.Close() // the stragglers' connections go; their requests get ErrStopped
	}
	kctx, kcancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer kcancel()
	if err := k.Stop(kctx); err != nil {
		return fmt.Errorf("stop the kernel: %w", err)
	}
	fmt.Fprintln(e.stdout, "stopped")
	return nil
}
