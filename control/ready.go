package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// How a client finds a daemon that may still be starting. serve's
// readiness signal is PATH.addr: it is written last, atomically, once the
// kernel runs, the token is in PATH.token and the socket listens, so a
// client that reads an address finds a daemon that answers. But a script
// that runs `serve &` and then a client at once starts the client before
// serve has done any of that (the audit and the kernel's resume alone may
// take seconds). So serve also writes PATH.pid, its process id, before it
// does anything slow, and removes it last at stop: while PATH.pid names a
// live process, a client waits for PATH.addr (within its own deadline);
// when there is none, it waits StartGrace for one to appear, which covers
// a serve started just before it, and then says no daemon runs.

// StartGrace is how long FindDaemon waits for a serve to show itself
// (PATH.pid or PATH.addr) before it concludes that none runs. It bounds
// the time between `serve &` and serve's first write: process start and
// flag parsing, well under a second on a loaded machine.
const StartGrace = 3 * time.Second

// pollEvery is how often FindDaemon looks at the files while it waits.
const pollEvery = 20 * time.Millisecond

// PIDPath is where serve keeps its process id while it runs.
func PIDPath(dbPath string) string { return dbPath + ".pid" }

// ErrNoDaemon is wrapped by FindDaemon's error when no serve runs on the
// database: neither PATH.addr nor a live PATH.pid appeared within
// StartGrace.
var ErrNoDaemon = errors.New("no daemon serves the database")

// ErrNotReady is wrapped by FindDaemon's error when a serve runs on the
// database but ctx ended before it was ready.
var ErrNotReady = errors.New("the daemon was not ready in time")

// ErrServing is wrapped by ClaimPID's error when another live process
// serves the database.
var ErrServing = errors.New("another daemon serves the database")

// ClaimPID writes this process's id to PIDPath(dbPath), with
// WritePrivate, telling clients that a serve is starting on dbPath. It
// refuses, with ErrServing, a file that names another live process: that
// serve is running (or starting), and overwriting its id would hide it. A
// file left by a process that is gone (kill -9) is taken over. release
// removes the file if it still holds this process's id.
func ClaimPID(dbPath string) (release func(), err error) {
	path := PIDPath(dbPath)
	if pid, ok := readPID(path); ok && pid != os.Getpid() && alive(pid) {
		return func() {}, fmt.Errorf("%w: process %d (its id is in %s)", ErrServing, pid, path)
	}
	if err := WritePrivate(path, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		return func() {}, err
	}
	return func() {
		// Two serves started at once both write; the one that lost the
		// database's lock must not remove the winner's id.
		if pid, ok := readPID(path); ok && pid == os.Getpid() {
			os.Remove(path)
		}
	}, nil
}

// RemoveFiles removes the files a serve of dbPath keeps beside it but its
// process id (PATH.addr first, so no client finds a daemon that is going,
// then PATH.token, worthless once the daemon is gone): what serve does at
// stop. A file already gone is no error.
func RemoveFiles(dbPath string) error {
	var errs []error
	for _, p := range []string{AddrPath(dbPath), TokenPath(dbPath)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// FindDaemon returns the address of the daemon that serves dbPath, as
// PATH.addr gives it, waiting until ctx ends for a daemon that is
// starting (see StartGrace). It fails at once for a directory that does
// not exist (no daemon could write there), with ErrNoDaemon when no serve
// showed itself within StartGrace, and with ErrNotReady when one runs but
// ctx ended first.
func FindDaemon(ctx context.Context, dbPath string) (string, error) {
	if _, err := os.Stat(filepath.Dir(dbPath)); err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoDaemon, err)
	}
	start := time.Now()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		b, err := os.ReadFile(AddrPath(dbPath))
		switch {
		case err == nil:
			addr := strings.TrimSpace(string(b))
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return "", fmt.Errorf("control: %s holds %q, not HOST:PORT", AddrPath(dbPath), addr)
			}
			return addr, nil
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("control: %w", err)
		}
		pid, found := readPID(PIDPath(dbPath))
		starting := found && alive(pid)
		if !starting && time.Since(start) >= StartGrace {
			return "", fmt.Errorf("%w: neither %s nor a live %s appeared within %v",
				ErrNoDaemon, AddrPath(dbPath), PIDPath(dbPath), StartGrace)
		}
		select {
		case <-ctx.Done():
			if starting {
				return "", fmt.Errorf("%w: serve (process %d) had not written %s when the wait ended: %w",
					ErrNotReady, pid, AddrPath(dbPath), ctx.Err())
			}
			return "", fmt.Errorf("%w: %s did not appear before the wait ended: %w", ErrNoDaemon, AddrPath(dbPath), ctx.Err())
		case <-tick.C:
		}
	}
}

// readPID reads a process id written by ClaimPID.
func readPID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 0
}

// alive reports whether a process with id pid runs: signal 0 is checked
// for delivery but never sent. EPERM means it runs as someone else. Where
// signals do not exist (Windows) it reports false, and clients fall back
// on StartGrace alone.
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
