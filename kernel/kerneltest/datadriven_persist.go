package kerneltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// Persistence commands: a scenario that restarts its kernel runs on a file
// store (setup store=file, or store file) and restarts it with reopen,
// cleanly or as a kill -9 would. Under group commit, flush writes the
// units held so far, and a crash loses the rest, with the outputs they
// held (which were never released).

// cmdSetup runs
//
//	setup [store=file] [policy=group] [group-cranks=N] [log]
//
// the scenario's Driver is replaced with a fresh one: on a file store in
// the test's temporary directory (store=file), with group commit
// (policy=group, group-cranks=N: a crash then loses the committed units
// not yet flushed), and with the kernel's warnings captured for
// kernel-log (log). It must come before anything else happens.
func (s *scenario) cmdSetup(td *datadriven.TestData) (string, error) {
	file := false
	opts := persistence.Options{}
	for _, a := range td.CmdArgs {
		switch a.Key {
		case "store":
			if a.SingleVal(s.d.T) != "file" {
				return "", fmt.Errorf("setup: store=file is the only store option")
			}
			file = true
		case "policy":
			opts.Policy = persistence.CommitPolicy(a.SingleVal(s.d.T))
		case "group-cranks":
			var n int
			td.ScanArgs(s.d.T, "group-cranks", &n)
			opts.GroupCranks = n
		case "log":
			s.kernelLog = &bytes.Buffer{}
		default:
			return "", fmt.Errorf("setup: unknown option %q", a.Key)
		}
	}
	if err := s.newDriver("setup", file, opts); err != nil {
		return "", err
	}
	if !file {
		return "in-memory store\n", nil
	}
	return fmt.Sprintf("file store, policy %s\n", s.d.Store.Policy()), nil
}

// cmdStore runs "store file": as setup store=file, printing ok.
func (s *scenario) cmdStore(td *datadriven.TestData) (string, error) {
	if pos := positional(td); len(pos) != 1 || pos[0] != "file" || len(td.CmdArgs) != 1 {
		return "", fmt.Errorf("store file")
	}
	if err := s.newDriver("store", true, persistence.Options{}); err != nil {
		return "", err
	}
	return "ok\n", nil
}

// newDriver replaces the scenario's Driver with a fresh one, on a new file
// store (file) or in memory, if nothing has happened yet (cmd, the
// command, must be the scenario's first).
func (s *scenario) newDriver(cmd string, file bool, opts persistence.Options) error {
	if len(s.d.Vats) > 0 || s.d.K.CrankCount() > 0 || len(s.d.Released) > 0 {
		return fmt.Errorf("%s must be the scenario's first command", cmd)
	}
	path := ""
	if file {
		path = filepath.Join(s.d.T.TempDir(), "kernel.db")
	}
	// The store's clock stands still, so that a group commits by its size
	// alone and the scenario is the same on every run.
	still := time.Unix(1_000_000, 0)
	opts.Now = func() time.Time { return still }
	d := NewWithOptions(s.d.T, path, opts)
	if err := s.useLogger(d); err != nil {
		return err
	}
	s.d = d
	return nil
}

// useLogger remakes d's kernel over the same store with the scenario's
// logger, if setup asked for one (a kernel's logger is fixed when it is
// made). Only a kernel with nothing pending may be remade: one just made,
// or one just reopened.
func (s *scenario) useLogger(d *Driver) error {
	if s.kernelLog == nil {
		return nil
	}
	lg := zerolog.New(s.kernelLog).Level(zerolog.WarnLevel)
	k, err := kernel.New(kernel.Config{Store: d.Store, Now: d.now, Logger: lg})
	if err != nil {
		return err
	}
	d.K = k
	return nil
}

// cmdReopen runs "reopen [clean|crash] [reset]": the kernel restarts on
// its file store, as a process that stops and starts again: cleanly (what
// is committed is flushed, then the store closed), or with crash as a
// kill -9 (Store.Crash: units committed but not yet flushed are lost, and
// so are the outputs they held, which were never released); with reset,
// the store is emptied as it opens (the reference's resetStorage). A new
// kernel opens the file and resumes (kernel.Resume: every active vat
// begins a new incarnation). Without clean or crash it prints the outputs
// the stop and the resume released; with either, it first says what the
// stop flushed (and released) or the crash lost, then what resuming
// released.
func (s *scenario) cmdReopen(td *datadriven.TestData) (string, error) {
	d := s.d
	if d.path == "" {
		return "", fmt.Errorf("reopen needs a file store: begin the scenario with setup store=file")
	}
	crash := td.HasArg("crash")
	account := crash || td.HasArg("clean")
	before := len(d.Released)
	var head strings.Builder
	if crash {
		fmt.Fprintf(&head, "crashed (%d committed units lost)\n", d.Store.Unflushed())
		d.Store.Crash()
	} else {
		// A clean stop loses nothing: what the kernel committed is
		// written, and the outputs that waited for it released, before
		// the store closes.
		n := d.Store.Unflushed()
		out, err := d.K.Flush(d.Ctx)
		if err != nil {
			return "", fmt.Errorf("reopen: flush: %w", err)
		}
		d.release(out)
		fmt.Fprintf(&head, "stopped (%d units flushed)\n", n)
		for _, o := range out {
			head.WriteString("released at stop: " + kernel.DescribeOutput(o) + "\n")
		}
		if err := d.Store.Close(d.Ctx); err != nil {
			return "", fmt.Errorf("reopen: close: %w", err)
		}
	}
	opts := d.opts
	if td.HasArg("reset") {
		// The reference's resetStorage: the store starts afresh, so every
		// vat id, root and saved vref of the scenario is forgotten too
		// (ids will be handed out again), and so is the test log.
		opts.Reset = true
		d.Vats = map[kernel.VatID]*FakeVat{}
		s.roots = map[string]kernel.KRef{}
		s.saved = map[kernel.VatID]map[string]kernel.VRef{}
		s.forgetTestLog()
	}
	st, err := sqlitestore.Open(d.Ctx, d.path, opts)
	if err != nil {
		return "", fmt.Errorf("reopen: %w", err)
	}
	d.T.Cleanup(func() { st.Close(context.Background()) })
	k, err := kernel.New(kernel.Config{Store: st, Now: d.now})
	if err != nil {
		return "", fmt.Errorf("reopen: new kernel: %w", err)
	}
	d.Store, d.K = st, k
	if err := s.useLogger(d); err != nil {
		return "", err
	}
	// The file as it was left must already add up, before resuming
	// changes it: a crash must lose whole units only.
	d.audit("reopen")
	out, err := d.K.Resume(d.Ctx, startScripts{s})
	d.release(out)
	d.audit("resume")
	var res string
	if account {
		res = head.String() + "resumed: " + describeOutputs(out)
	} else {
		res = describeOutputs(d.Released[before:])
	}
	if err != nil {
		res += "error: " + err.Error() + "\n"
	}
	return res, nil
}

// cmdFlush runs "flush": the units group commit holds are written to
// SQLite, and the outputs now released (none before their units are on
// disk) are printed.
func (s *scenario) cmdFlush() (string, error) {
	n := s.d.Store.Unflushed()
	out, err := s.d.K.Flush(s.d.Ctx)
	if err != nil {
		return "", err
	}
	s.d.release(out)
	return fmt.Sprintf("flushed %d units\n", n) + describeOutputs(out), nil
}

// cmdKernelLog prints the kernel's warnings since the last kernel-log, one
// a line: level, message, then the other fields in name order.
func (s *scenario) cmdKernelLog() string {
	if s.kernelLog == nil {
		return "error: kernel-log needs setup log\n"
	}
	text := s.kernelLog.String()[s.kernelLogSeen:]
	s.kernelLogSeen = s.kernelLog.Len()
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			fmt.Fprintf(&b, "(unreadable) %s\n", line)
			continue
		}
		fmt.Fprintf(&b, "%v: %v", fields["level"], fields["message"])
		delete(fields, "level")
		delete(fields, "message")
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys) // zerolog's field order is not ours to rely on
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%q", k, fmt.Sprint(fields[k]))
		}
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		return "(none)\n"
	}
	return b.String()
}
