package kerneltest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
)

// Vat lifecycle commands: launching fake vats (bare, or as the host does,
// with the bootstrap message and per-vat failure policies), scripting what
// a vat's start does, and terminating vats and subclusters. Each is one
// host request, audited like the others, and prints what it released.

// cmdLaunch runs "launch bootstrap=NAME vats=(A,B,...)": the vats are
// launched and started (Driver.Launch), with no bootstrap message. It
// prints the subcluster and each vat with its root.
func (s *scenario) cmdLaunch(td *datadriven.TestData) (string, error) {
	var boot string
	td.ScanArgs(s.d.T, "bootstrap", &boot)
	arg, _ := td.Arg("vats")
	res := s.d.Launch(boot, arg.Vals...)
	return s.describeLaunch(res), nil
}

// cmdLaunchBoot runs
//
//	launch-boot bootstrap=NAME vats=(A,...) [restart=(B,...)]
//	            [max-restarts=N] [fail-start=(B,...)] [no-bootstrap]
//
// a launch as the host makes it (kernel.Launch): one unit that records the
// vats, starts each and, unless no-bootstrap, queues bootstrap(vats,
// services) to the bootstrap vat's root. Vats named in restart are under
// the restart failure policy (max-restarts=N bounds it); fail-start makes
// their startVat fail, which must leave nothing behind. It prints the
// subcluster, its vats and the bootstrap's result promise.
func (s *scenario) cmdLaunchBoot(td *datadriven.TestData) (string, error) {
	d := s.d
	var boot string
	td.ScanArgs(d.T, "bootstrap", &boot)
	names, _ := td.Arg("vats")
	policy := map[string]bool{}
	if a, ok := td.Arg("restart"); ok {
		for _, n := range a.Vals {
			policy[n] = true
		}
	}
	var maxRestarts int
	if td.HasArg("max-restarts") {
		td.ScanArgs(d.T, "max-restarts", &maxRestarts)
	}
	clear(s.failStart)
	if a, ok := td.Arg("fail-start"); ok {
		for _, n := range a.Vals {
			s.failStart[n] = true
		}
	}
	cfg := kernel.ClusterConfig{Bootstrap: boot, Vats: map[string]kernel.VatConfig{}}
	for _, n := range names.Vals {
		vc := kernel.VatConfig{Bundle: "fake"}
		if policy[n] {
			vc.FailurePolicy = kernel.PolicyRestart
			vc.Restart.MaxRestarts = maxRestarts
		}
		cfg.Vats[n] = vc
	}
	res, out, err := d.K.Launch(d.Ctx, startScripts{s}, cfg, kernel.LaunchOptions{NoBootstrap: td.HasArg("no-bootstrap")})
	clear(s.failStart)
	if err != nil {
		// The launch left nothing: forget the fake vats its starts made,
		// whose ids name no vat (and will be handed out again).
		for id := range d.Vats {
			if _, verr := d.K.Vat(id); errors.Is(verr, kernel.ErrUnknownVat) {
				delete(d.Vats, id)
			}
		}
		d.audit("failed launch")
		return "", err
	}
	d.release(out)
	d.audit("launch")
	desc := s.describeLaunch(res)
	if res.BootstrapKPID != "" {
		desc = strings.TrimSuffix(desc, "\n") + fmt.Sprintf(" bootstrap=%s\n", res.BootstrapKPID)
	}
	return desc, nil
}

// describeLaunch remembers a launch's roots by vat name and prints the
// subcluster and its vats, in name order.
func (s *scenario) describeLaunch(res kernel.LaunchResult) string {
	var b strings.Builder
	b.WriteString(string(res.SubclusterID))
	for _, n := range slices.Sorted(maps.Keys(res.Roots)) {
		s.roots[n] = res.Roots[n]
		fmt.Fprintf(&b, " %s=%s(root %s)", n, res.VatIDs[n], res.Roots[n])
	}
	return b.String() + "\n"
}

// cmdOnStart runs "on-start vat=NAME": the input script runs at every
// startVat of the vats named NAME (at launch, restart, upgrade and
// resume), after the fake vat's own start: what a vat's buildRootObject
// does with its baggage.
func (s *scenario) cmdOnStart(td *datadriven.TestData) (string, error) {
	var name string
	td.ScanArgs(s.d.T, "vat", &name)
	s.onStart[name] = td.Input
	return "ok\n", nil
}

// startScripts is the Deliverer the scenario hands the kernel wherever a
// vat may be started (launch-boot, restart, upgrade, reopen): it is the
// Driver, but a startVat also runs the vat's on-start script, and fails
// for a vat launch-boot was told to fail. Cranks never start vats, so the
// Driver's own Crank, which passes itself, loses nothing.
type startScripts struct{ s *scenario }

// Deliver delivers dv to vat, running NAME's on-start script after a
// startVat.
func (w startScripts) Deliver(ctx context.Context, vat kernel.VatID, dv kernel.Delivery, sys kernel.Syscaller) (err error) {
	s := w.s
	if dv.Kind != kernel.DeliverStartVat {
		return s.d.Deliver(ctx, vat, dv, sys)
	}
	info, ierr := s.d.K.Vat(vat)
	if ierr == nil && s.failStart[info.Name] {
		return fmt.Errorf("%w: scripted start failure of %q", kernel.ErrVatFault, info.Name)
	}
	if err := s.d.Deliver(ctx, vat, dv, sys); err != nil {
		return err
	}
	script, ok := s.onStart[info.Name]
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

// cmdTerminate runs "terminate vat=NAME": the host terminates the vat
// (kernel.TerminateVat); it prints what that released.
func (s *scenario) cmdTerminate(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	out, err := s.d.K.TerminateVat(s.d.Ctx, v.ID, "terminated by scenario")
	if err != nil {
		return "", err
	}
	s.d.release(out)
	s.d.audit("terminate")
	return describeOutputs(out), nil
}

// cmdTerminateSubcluster runs "terminate-subcluster id=sN": the host
// terminates a subcluster; it prints the vats stopped, in the order they
// were stopped, then what that released.
func (s *scenario) cmdTerminateSubcluster(td *datadriven.TestData) (string, error) {
	var id string
	td.ScanArgs(s.d.T, "id", &id)
	stopped, out, err := s.d.K.TerminateSubcluster(s.d.Ctx, kernel.SubclusterID(id), "terminated by scenario")
	if err != nil {
		return "", err
	}
	s.d.release(out)
	s.d.audit("terminate-subcluster")
	ids := make([]string, len(stopped))
	for i, v := range stopped {
		ids[i] = string(v)
	}
	return "stopped " + strings.Join(ids, ",") + "\n" + describeOutputs(out), nil
}
