package kerneltest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Vat lifecycle commands: launching with a bootstrap message and failure
// policies, restarting, pinging, and listing vats, subclusters and the
// kernel's vat lifecycle log.

// launchBoot launches fake vats as the host does (kernel.Launch): startVat
// of every vat and, unless no-bootstrap, the bootstrap message queued, all
// in one unit. restart=(...) puts vats under the restart policy
// (max-restarts=N bounds it); fail-start=(...) makes their startVat fail,
// which must leave nothing behind. It prints the subcluster, its vats and
// the bootstrap's result promise.
func (s *scenario) launchBoot(td *datadriven.TestData) (string, error) {
	d := s.d
	var boot string
	td.ScanArgs(s.d.T, "bootstrap", &boot)
	names, _ := td.Arg("vats")
	policy := map[string]bool{}
	if a, ok := td.Arg("restart"); ok {
		for _, n := range a.Vals {
			policy[n] = true
		}
	}
	var maxRestarts int
	if td.HasArg("max-restarts") {
		td.ScanArgs(s.d.T, "max-restarts", &maxRestarts)
	}
	clear(s.ext().failStart)
	if a, ok := td.Arg("fail-start"); ok {
		for _, n := range a.Vals {
			s.ext().failStart[n] = true
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
	clear(s.ext().failStart)
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
	var b strings.Builder
	b.WriteString(string(res.SubclusterID))
	for _, n := range slices.Sorted(maps.Keys(res.Roots)) {
		s.roots[n] = res.Roots[n]
		fmt.Fprintf(&b, " %s=%s(root %s)", n, res.VatIDs[n], res.Roots[n])
	}
	if res.BootstrapKPID != "" {
		fmt.Fprintf(&b, " bootstrap=%s", res.BootstrapKPID)
	}
	return b.String() + "\n", nil
}

// onStart scripts every startVat of the vats named vat (at launch,
// restart and resume): what a vat's buildRootObject does with its baggage.
func (s *scenario) onStart(td *datadriven.TestData) (string, error) {
	var name string
	td.ScanArgs(s.d.T, "vat", &name)
	s.ext().onStart[name] = td.Input
	return "ok\n", nil
}

// restart restarts a vat at the host's request (kernel.RestartVat) and
// prints what the restart released.
func (s *scenario) restart(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	v.Unavailable = false // the runtime has the new incarnation's actor
	out, err := s.d.K.RestartVat(s.d.Ctx, v.ID, startScripts{s}, "restarted by scenario")
	s.d.release(out)
	s.d.audit("restart")
	res := describeOutputs(out)
	if err != nil {
		res += "error: " + err.Error() + "\n"
	}
	return res, nil
}

// setFailStart makes a vat's coming starts fail (or, with off, succeed).
func (s *scenario) setFailStart(td *datadriven.TestData) (string, error) {
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

// advance moves the time the kernel is told (the restart policy's clock).
func (s *scenario) advance(td *datadriven.TestData) (string, error) {
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

// restarts prints the restart decisions of the cranks run since the last
// call: which vat the runtime must restart, and after what backoff.
func (s *scenario) restarts() string {
	var b strings.Builder
	cranks := s.d.Cranks[s.ext().restartsSeen:]
	s.ext().restartsSeen = len(s.d.Cranks)
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

// ping answers for a vat as the runtime's PingVat does: pong with its
// incarnation while it is active and its endpoint answers.
func (s *scenario) ping(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	info, err := s.d.K.Vat(v.ID)
	switch {
	case err != nil:
		return "", err
	case !info.Active:
		return "", fmt.Errorf("vat %s: %w", v.ID, kernel.ErrVatNotActive)
	case v.Gone || v.Unavailable:
		return "", fmt.Errorf("vat %s does not answer", v.ID)
	}
	return fmt.Sprintf("pong incarnation=%d\n", info.Incarnation), nil
}

// describeVats lists every vat the kernel knows, active or terminated.
func (s *scenario) describeVats() string {
	var b strings.Builder
	for _, v := range s.d.K.Vats() {
		state := "active"
		if !v.Active {
			state = "terminated"
		}
		fmt.Fprintf(&b, "%s %q %s %s incarnation=%d", v.ID, v.Name, v.Subcluster, state, v.Incarnation)
		if v.Root != "" {
			fmt.Fprintf(&b, " root=%s", v.Root)
		}
		if v.Config.FailurePolicy != "" {
			fmt.Fprintf(&b, " policy=%s", v.Config.FailurePolicy)
		}
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		return "(none)\n"
	}
	return b.String()
}

// describeSubclusters lists the subclusters with their vats and the state
// of their bootstrap.
func (s *scenario) describeSubclusters() string {
	var b strings.Builder
	for _, sc := range s.d.K.Subclusters() {
		fmt.Fprintf(&b, "%s bootstrap=%s vats=", sc.ID, sc.Bootstrap)
		names := slices.Sorted(maps.Keys(sc.Vats))
		for i, n := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s:%s", n, sc.Vats[n])
		}
		state, value, err := s.d.K.SubclusterBootstrap(sc.ID)
		switch {
		case err != nil:
			fmt.Fprintf(&b, " bootstrap-error=%v", err)
		case state == persistence.PromiseUnresolved:
			b.WriteString(" bootstrap-result=(pending)")
		case state != "":
			fmt.Fprintf(&b, " bootstrap-result=%s:%s", state, value)
		}
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		return "(none)\n"
	}
	return b.String()
}

// events prints the kernel's vat lifecycle log, of one vat or of all.
func (s *scenario) events(td *datadriven.TestData) (string, error) {
	vat := ""
	if td.HasArg("vat") {
		v, err := s.vatArg(td)
		if err != nil {
			return "", err
		}
		vat = string(v.ID)
	}
	evs, err := s.d.Store.VatEvents(s.d.Ctx, vat)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%s incarnation=%d %s at crank %d: %s\n", e.Vat, e.Incarnation, e.Event, e.AtCrank, e.Reason)
	}
	if b.Len() == 0 {
		return "(none)\n", nil
	}
	return b.String(), nil
}

// terminateSubcluster terminates a subcluster at the host's request and
// prints the vats it stopped, then what it released.
func (s *scenario) terminateSubcluster(td *datadriven.TestData) (string, error) {
	var id string
	td.ScanArgs(s.d.T, "id", &id)
	stopped, out, err := s.d.K.TerminateSubcluster(s.d.Ctx, kernel.SubclusterID(id), "terminated by scenario")
	if err != nil {
		return "", err
	}
	s.d.release(out)
	s.d.audit("terminate-subcluster")
	ids := make([]string, len(stopped)) // in the order they were stopped
	for i, v := range stopped {
		ids[i] = string(v)
	}
	return "stopped " + strings.Join(ids, ",") + "\n" + describeOutputs(out), nil
}
