package kerneltest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
)

// Incarnation commands: a vat's restart and upgrade at the host's request
// (each a new incarnation, which can be made to fail to start), a vat whose
// starts keep failing, and the restart failure policy: the clock the
// kernel is told, and the restarts the cranks decide.

// withFailStart runs fn with vat v failing its startVat with TEXT, if the
// command says fail=TEXT (a new incarnation whose code does not start:
// SwingSet's failed upgrade).
func withFailStart(td *datadriven.TestData, v *FakeVat, fn func() ([]kernel.Output, error)) ([]kernel.Output, error) {
	if arg, ok := td.Arg("fail"); ok {
		v.FailStart = errors.New(strings.Join(arg.Vals, " "))
		defer func() { v.FailStart = nil }()
	}
	return fn()
}

// cmdRestart runs "restart vat=NAME [fail=TEXT]": the host restarts the
// vat (kernel.RestartVat), and the outputs released are printed, then the
// error if it failed.
func (s *scenario) cmdRestart(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	v.Unavailable = false // the runtime has the new incarnation's actor
	out, err := withFailStart(td, v, func() ([]kernel.Output, error) {
		return s.d.K.RestartVat(s.d.Ctx, v.ID, startScripts{s}, "restarted by scenario")
	})
	s.d.release(out)
	s.d.audit("restart")
	return describeOutputs(out) + errLine(err), nil
}

// cmdUpgrade runs "upgrade vat=NAME bundle=B [fail=TEXT]": the host
// upgrades the vat to bundle B (kernel.UpgradeVat). The fake vat keeps its
// scripts; a scenario rescripts what the new code does differently.
func (s *scenario) cmdUpgrade(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	var bundle string
	td.ScanArgs(s.d.T, "bundle", &bundle)
	out, err := withFailStart(td, v, func() ([]kernel.Output, error) {
		return s.d.K.UpgradeVat(s.d.Ctx, v.ID, startScripts{s}, kernel.VatConfig{Bundle: bundle})
	})
	s.d.release(out)
	s.d.audit("upgrade")
	return describeOutputs(out) + errLine(err), nil
}

// errLine prints err as the last line of a command's output, if any.
func errLine(err error) string {
	if err == nil {
		return ""
	}
	return "error: " + err.Error() + "\n"
}

// cmdFailStart runs "fail-start vat=NAME [off]": the vat's coming starts
// fail with ErrScripted (or, with off, succeed again), whoever starts it:
// the host, the restart policy or a resume.
func (s *scenario) cmdFailStart(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	v.FailStart = ErrScripted
	if td.HasArg("off") {
		v.FailStart = nil
	}
	return "ok\n", nil
}

// cmdAdvance runs "advance DURATION": the time the kernel is told (the
// restart policy's clock) moves on.
func (s *scenario) cmdAdvance(td *datadriven.TestData) (string, error) {
	pos := positional(td)
	if len(pos) != 1 {
		return "", fmt.Errorf("advance DURATION")
	}
	dur, err := time.ParseDuration(pos[0])
	if err != nil {
		return "", err
	}
	s.d.Now = s.d.Now.Add(dur)
	return "ok\n", nil
}

// cmdRestarts prints the restart decisions of the cranks run since the
// last restarts: which vat the runtime must restart, and after what
// backoff.
func (s *scenario) cmdRestarts() string {
	var b strings.Builder
	cranks := s.d.Cranks[s.restartsSeen:]
	s.restartsSeen = len(s.d.Cranks)
	for _, r := range cranks {
		if r.Restart != "" {
			fmt.Fprintf(&b, "crank %d: restart %s after %v\n", r.Crank, r.Restart, r.RestartAfter)
		}
	}
	if b.Len() == 0 {
		return "(none)\n"
	}
	return b.String()
}
