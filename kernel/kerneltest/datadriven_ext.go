package kerneltest

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
)

// The commands of this file and its siblings (datadriven_persist.go,
// datadriven_lifecycle.go, datadriven_hostile.go, datadriven_inspect.go)
// let scenario files say what the anchors' own test families check: a
// kernel restart on a file store, a launch with its bootstrap message and
// per-vat failure policies, restarts, pings, a vat's own log, and hostile
// syscalls written out raw. RunScenario's doc comment lists them.

// extState is what those commands remember across a scenario.
type extState struct {
	// logs holds each vat's log lines (the script lines log, incr,
	// vatstore-get, and every refused syscall of the raw lines), by vat.
	logs map[kernel.VatID][]string
	// onStart holds startVat scripts by vat name (on-start).
	onStart map[string]string
	// failStart names the vats of launch-boot whose startVat fails.
	failStart map[string]bool
	// kernelLog captures the kernel's warnings when setup asked for it
	// (log); logged is how much of it kernel-log has shown.
	kernelLog *bytes.Buffer
	logged    int
	// restartsSeen is how many of the Driver's cranks restarts has read.
	restartsSeen int
	// stashed holds a syscaller a vat kept from an earlier delivery (the
	// script line stash), by vat.
	stashed map[kernel.VatID]kernel.Syscaller
}

// ext returns the scenario's extension state, made on first use.
func (s *scenario) ext() *extState {
	if s.x == nil {
		s.x = &extState{
			logs:      map[kernel.VatID][]string{},
			onStart:   map[string]string{},
			failStart: map[string]bool{},
			stashed:   map[kernel.VatID]kernel.Syscaller{},
		}
	}
	return s.x
}

// runExt runs one of the extension commands (dispatched from run).
func (s *scenario) runExt(td *datadriven.TestData) (string, error) {
	switch td.Cmd {
	case "setup":
		return s.setup(td)
	case "reopen":
		return s.reopen(td)
	case "flush":
		return s.flush()
	case "kernel-log":
		return s.showKernelLog(), nil
	case "launch-boot":
		return s.launchBoot(td)
	case "on-start":
		return s.onStart(td)
	case "restart":
		return s.restart(td)
	case "fail-start":
		return s.setFailStart(td)
	case "advance":
		return s.advance(td)
	case "restarts":
		return s.restarts(), nil
	case "ping":
		return s.ping(td)
	case "vats":
		return s.describeVats(), nil
	case "subclusters":
		return s.describeSubclusters(), nil
	case "events":
		return s.events(td)
	case "terminate-subcluster":
		return s.terminateSubcluster(td)
	case "vat-log":
		return s.vatLog(td)
	case "promise":
		return s.promise(td)
	case "is-revoked":
		return s.isRevoked(td)
	case "pin", "unpin":
		return s.pinUnpin(td)
	case "send-to":
		return s.sendTo(td)
	case "cranks":
		return s.cranks(td)
	}
	return "", fmt.Errorf("unknown command %q", td.Cmd)
}

// startScripts is the Deliverer the extension commands hand the kernel
// wherever a vat may be started (launch-boot, restart, reopen): it is the
// Driver, but a startVat also runs the vat's on-start script, and fails
// for a vat launch-boot was told to fail. Cranks never start vats, so the
// Driver's own Crank, which passes itself, loses nothing.
type startScripts struct{ s *scenario }

func (w startScripts) Deliver(ctx context.Context, vat kernel.VatID, dv kernel.Delivery, sys kernel.Syscaller) (err error) {
	s := w.s
	if dv.Kind != kernel.DeliverStartVat {
		return s.d.Deliver(ctx, vat, dv, sys)
	}
	info, ierr := s.d.K.Vat(vat)
	if ierr == nil && s.ext().failStart[info.Name] {
		return fmt.Errorf("%w: scripted start failure of %q", kernel.ErrVatFault, info.Name)
	}
	if err := s.d.Deliver(ctx, vat, dv, sys); err != nil {
		return err
	}
	script, ok := s.ext().onStart[info.Name]
	if !ok {
		return nil
	}
	v := s.d.Vats[vat]
	defer func() {
		// A panicking script is the vat failing its start, as in Deliver.
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: panic: %v", kernel.ErrVatFault, r)
		}
	}()
	if herr := s.script(v, script)(&Call{Vat: v, Delivery: dv, Sys: sys}); herr != nil {
		return fmt.Errorf("%w: %v", kernel.ErrVatFault, herr)
	}
	return nil
}

// cranks runs N cranks, stopping early when there is no work.
func (s *scenario) cranks(td *datadriven.TestData) (string, error) {
	pos := positional(td)
	n := 0
	if len(pos) != 1 {
		return "", fmt.Errorf("cranks N")
	}
	if _, err := fmt.Sscanf(pos[0], "%d", &n); err != nil || n <= 0 {
		return "", fmt.Errorf("cranks N: %q is not a positive count", pos[0])
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		r := s.d.Crank()
		if r.Outcome == kernel.Idle {
			b.WriteString("(idle)\n")
			break
		}
		b.WriteString(kernel.DescribeCrank(r) + "\n")
	}
	return b.String(), nil
}
