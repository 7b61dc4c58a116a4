package kerneltest

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Lifecycle commands for the ports of the anchors' test families: a
// scenario on a file store (so that it can restart the kernel), a kernel
// restart, a vat's restart and upgrade (each a new incarnation, which can
// be made to fail to start), and a launch that queues the bootstrap
// message, with per-vat failure policies. Each is one host request, audited
// like the others, and prints what it released.

// cmdStore runs "store file": the scenario runs on a SQLite file in a
// fresh temporary directory instead of in memory, so that reopen can
// restart the kernel over it. It must come before anything else.
func (s *scenario) cmdStore(td *datadriven.TestData) (string, error) {
	if pos := positional(td); len(pos) != 1 || pos[0] != "file" {
		return "", fmt.Errorf("store file")
	}
	if len(s.d.Vats) > 0 || s.d.K.CrankCount() > 0 {
		return "", fmt.Errorf("store file must be the scenario's first command")
	}
	path := filepath.Join(s.d.T.TempDir(), "kernel.db")
	s.d = NewWithOptions(s.d.T, path, persistence.Options{})
	return "ok\n", nil
}

// cmdReopen runs "reopen": the kernel stops cleanly and a new one resumes
// over the same file (Driver.Reopen), so every active vat begins a new
// incarnation. It prints the outputs the restart released.
func (s *scenario) cmdReopen() (string, error) {
	if s.d.path == "" {
		return "", fmt.Errorf("reopen needs a file store (put \"store file\" first)")
	}
	before := len(s.d.Released)
	s.d.Reopen()
	return describeOutputs(s.d.Released[before:]), nil
}

// withFailStart runs fn with vat v failing its startVat with text, if
// the command says fail=TEXT (a new incarnation whose code does not start:
// SwingSet's failed upgrade).
func withFailStart(td *datadriven.TestData, v *FakeVat, fn func() ([]kernel.Output, error)) ([]kernel.Output, error) {
	if arg, ok := td.Arg("fail"); ok {
		v.FailStart = errors.New(strings.Join(arg.Vals, " "))
		defer func() { v.FailStart = nil }()
	}
	return fn()
}

// cmdRestart runs "restart vat=NAME [fail=TEXT]": the host restarts the
// vat (kernel.RestartVat) and the outputs released are printed, or the
// error.
func (s *scenario) cmdRestart(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	out, err := withFailStart(td, v, func() ([]kernel.Output, error) {
		return s.d.K.RestartVat(s.d.Ctx, v.ID, s.d, "restarted by scenario")
	})
	s.d.release(out)
	s.d.audit("restart")
	if err != nil {
		return describeOutputs(out) + "error: " + err.Error() + "\n", nil
	}
	return describeOutputs(out), nil
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
		return s.d.K.UpgradeVat(s.d.Ctx, v.ID, s.d, kernel.VatConfig{Bundle: bundle})
	})
	s.d.release(out)
	s.d.audit("upgrade")
	if err != nil {
		return describeOutputs(out) + "error: " + err.Error() + "\n", nil
	}
	return describeOutputs(out), nil
}

// cmdLaunchBoot runs
//
//	launch-boot bootstrap=NAME vats=(A,B,...) [restart=(A,...)]
//
// a launch as the host makes it: one unit that records the vats, starts
// each and queues bootstrap(vats, services) to the bootstrap vat's root.
// Vats named in restart are under the restart failure policy. It prints
// the vats and roots, and the bootstrap's result promise.
func (s *scenario) cmdLaunchBoot(td *datadriven.TestData) (string, error) {
	var boot string
	td.ScanArgs(s.d.T, "bootstrap", &boot)
	arg, _ := td.Arg("vats")
	restart := map[string]bool{}
	if r, ok := td.Arg("restart"); ok {
		for _, n := range r.Vals {
			restart[n] = true
		}
	}
	cfg := kernel.ClusterConfig{Bootstrap: boot, Vats: map[string]kernel.VatConfig{}}
	for _, n := range arg.Vals {
		vc := kernel.VatConfig{Bundle: "fake"}
		if restart[n] {
			vc.FailurePolicy = kernel.PolicyRestart
		}
		cfg.Vats[n] = vc
	}
	res, out, err := s.d.K.Launch(s.d.Ctx, s.d, cfg, kernel.LaunchOptions{})
	if err != nil {
		return "", err
	}
	s.d.release(out)
	s.d.audit("launch")
	var b strings.Builder
	b.WriteString(string(res.SubclusterID))
	names := append([]string(nil), arg.Vals...)
	sort.Strings(names)
	for _, n := range names {
		s.roots[n] = res.Roots[n]
		fmt.Fprintf(&b, " %s=%s(root %s)", n, res.VatIDs[n], res.Roots[n])
	}
	fmt.Fprintf(&b, " bootstrap=%s\n", res.BootstrapKPID)
	return b.String(), nil
}
