package kernelsim

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// finish ends a program: every vat settles what it still owes ("finish"
// messages, until nobody owes anything), the kernel runs until idle and
// flushes, and then every message must be accounted for.
func (w *world) finish() {
	w.finale = true
	w.log("end: every vat settles what it owes; run until idle")
	// Settling can deliver messages that waited on the promises settled,
	// whose results the receivers then owe: a few rounds, each to idle.
	// In the finale reactions send nothing, so the rounds end.
	for round := 0; round < 10 && len(w.viol) == 0; round++ {
		w.runIdle()
		owed := false
		for _, v := range w.vats {
			if v.active && v.hasPlans() {
				owed = true
				w.hostSend(v.root, "finish", nil, "", nil)
			}
		}
		if !owed {
			break
		}
	}
	w.runIdle()
	if len(w.viol) > 0 {
		return
	}
	// Group commit holds outputs until a flush; a runtime flushes before
	// it stops (the kernel's duty 5), so the host must then have them all.
	out, err := w.d.K.Flush(w.d.Ctx)
	if err != nil {
		w.fail("kernel", "flush at the end: %v", err)
		return
	}
	for _, o := range out {
		w.log("  flush: %s", kernel.DescribeOutput(o))
	}
	w.d.Release(out)
	w.processOutputs()
	w.finalChecks()
}

// finalChecks runs the end's checks: no work and no unsettled promise is
// left, and every message was delivered once or splat as the model
// expects (checked when its result was seen), none lost.
func (w *world) finalChecks() {
	if w.d.K.HasWork() {
		w.fail("sim", "work left after running to idle")
	}
	st := w.d.Store
	// Once every vat has settled what it owes, any promise still unsettled
	// is one whose decider cannot settle it: stranded, as a kernel restart
	// strands promises when resume does not reject them.
	for _, kpid := range st.PromiseKPIDs() {
		p, _ := st.Promise(kpid)
		if p.State != persistence.PromiseUnresolved {
			continue
		}
		check := "exactly-once"
		if v := w.vatByID(kernel.VatID(p.Decider)); v != nil && v.kernelRestarted {
			check = "resume" // decided by a vat whose heap a kernel restart lost
		}
		w.fail(check, "%s is unsettled at the end: decider %q, %d messages queued on it, host awaits it: %v",
			kpid, p.Decider, p.QueueTail-p.QueueHead, p.HostSubscribed)
	}
	// Every message sent: its sender (if alive, and so subscribed to the
	// result) must have seen the result settle; one nobody could see must
	// have had nowhere to go.
	for _, m := range w.msgs {
		if !m.committed {
			continue
		}
		alive := (m.from == host || w.vats[m.from].active) && !m.deaf
		if m.result != 0 && alive && !m.seen {
			// For the host the kernel can tell more: a result that settled
			// (or was freed) without an output was lost on the way out.
			if p, ok := st.Promise(string(m.kpid)); m.from == host && (!ok || p.State != persistence.PromiseUnresolved) {
				w.fail("output", "%s (delivered %d times): its result %s settled in the kernel, but the host never got the output", m, m.delivered, m.kpid)
				continue
			}
			w.fail("exactly-once", "%s (delivered %d times) never had its result settled for its sender", m, m.delivered)
			continue
		}
		if m.delivered > 0 || (m.result != 0 && w.refs[m.result].res != nil) {
			continue
		}
		// Nobody saw its fate: it must have had nowhere to go.
		if t, _ := w.finalTarget(m.on); t != nil {
			if ok, _ := w.answers(t); ok && t.revokedAt < 0 {
				w.fail("exactly-once", "%s was lost: never delivered, though its target %s answers", m, t.id)
			}
		}
	}
	for _, v := range w.vats {
		if v.active && v.hasPlans() {
			w.fail("sim", "%s still owes settlements at the end", v.name)
		}
	}
}

// Result is what a run found.
type Result struct {
	Program Program
	Stats   Stats
	// Violations lists what broke the model, first first ("[check] step
	// N crank M: what").
	Violations []string
	// Checks names the check of each violation, in the same order.
	Checks []string
	// FailedStep is the step of the first violation (len(Steps) for the
	// end's checks), -1 if none.
	FailedStep int
	// Trace holds the last steps and cranks before the run ended.
	Trace []string
}

// Failed reports whether the run found a violation.
func (r *Result) Failed() bool { return len(r.Violations) > 0 }

func (w *world) result() *Result {
	res := &Result{Program: w.p, Stats: w.stats, FailedStep: -1}
	res.Stats.Seeds = 1
	for check := range w.stats.Known {
		res.Stats.KnownSeeds[check] = 1
	}
	for _, v := range w.viol {
		res.Violations = append(res.Violations, v.String())
		res.Checks = append(res.Checks, v.check)
		res.Stats.Violations[v.check]++
	}
	if len(w.viol) > 0 {
		res.FailedStep = w.viol[0].step
		res.Stats.Failed = 1
	}
	res.Trace = w.trace
	if len(res.Trace) > traceLines {
		res.Trace = res.Trace[len(res.Trace)-traceLines:]
	}
	return res
}

// Report renders a failed run for a person: the first violation, the
// others, the program up to the failing step, and the last cranks. replay
// is the command that runs it again.
func (r *Result) Report(replay string) string {
	var b strings.Builder
	at := fmt.Sprintf("step %d", r.FailedStep)
	if r.FailedStep >= len(r.Program.Steps) {
		at = "the end (after every step, settling and running to idle)"
	}
	fmt.Fprintf(&b, "kernelsim: seed %d failed at %s: %s\n", r.Program.Seed, at, r.Violations[0])
	if len(r.Violations) > 1 {
		b.WriteString("\nthen:\n")
		for _, v := range r.Violations[1:] {
			fmt.Fprintf(&b, "  %s\n", v)
		}
	}
	b.WriteString("\nprogram:\n")
	b.WriteString(r.Program.Format(r.FailedStep))
	b.WriteString("\nlast steps and cranks:\n")
	for _, l := range r.Trace {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	fmt.Fprintf(&b, "\nreplay: %s\n", replay)
	return b.String()
}

// Stats counts what runs did.
type Stats struct {
	Seeds, Failed int
	// Steps counts the steps run, by kind; Skipped those that did not
	// apply (a gone vat, nothing to pick); Acts the acts vats performed.
	Steps, Skipped, Acts [numKinds]int
	Hostile              [numHostile]int
	Cranks               int
	// Work counts cranks by the kernel's work kind.
	Work map[string]int
	// Messages counts the messages sent; Delivered those delivered, of
	// which ViaPromise were sent to a promise.
	Messages, Delivered, ViaPromise int
	Notifies, GCDeliveries, Reaps   int
	// Splats counts results rejected without delivery, by code.
	Splats map[string]int
	// Terminated counts vat terminations by cause.
	Terminated     map[string]int
	KernelRestarts int
	// Violations counts violations by check.
	Violations map[string]int
	// Refused counts host sends the kernel refused, by why the model
	// accepts it.
	Refused map[string]int
	// Known counts the violations of Options.Known checks, by check, and
	// KnownSeeds the seeds that had one.
	Known, KnownSeeds map[string]int
}

func newStats() Stats {
	return Stats{Work: map[string]int{}, Splats: map[string]int{}, Terminated: map[string]int{}, Violations: map[string]int{}, Refused: map[string]int{}, Known: map[string]int{}, KnownSeeds: map[string]int{}}
}

// Add adds o to s.
func (s *Stats) Add(o Stats) {
	if s.Work == nil {
		*s = newStats()
	}
	s.Seeds += o.Seeds
	s.Failed += o.Failed
	for i := range s.Steps {
		s.Steps[i] += o.Steps[i]
		s.Skipped[i] += o.Skipped[i]
		s.Acts[i] += o.Acts[i]
	}
	for i := range s.Hostile {
		s.Hostile[i] += o.Hostile[i]
	}
	s.Cranks += o.Cranks
	s.Messages += o.Messages
	s.Delivered += o.Delivered
	s.ViaPromise += o.ViaPromise
	s.Notifies += o.Notifies
	s.GCDeliveries += o.GCDeliveries
	s.Reaps += o.Reaps
	s.KernelRestarts += o.KernelRestarts
	for _, pair := range []struct{ to, from map[string]int }{{s.Work, o.Work}, {s.Splats, o.Splats},
		{s.Terminated, o.Terminated}, {s.Violations, o.Violations}, {s.Refused, o.Refused}, {s.Known, o.Known}, {s.KnownSeeds, o.KnownSeeds}} {
		for k, n := range pair.from {
			pair.to[k] += n
		}
	}
}

// String renders the counts, a few lines.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seeds %d (failed %d), cranks %d, kernel restarts %d\n", s.Seeds, s.Failed, s.Cranks, s.KernelRestarts)
	b.WriteString("steps run (skipped):")
	for k := Kind(0); k < numKinds; k++ {
		fmt.Fprintf(&b, " %s %d", k, s.Steps[k])
		if s.Skipped[k] > 0 {
			fmt.Fprintf(&b, " (%d)", s.Skipped[k])
		}
	}
	b.WriteString("\nhostile syscalls:")
	for h := Hostile(0); h < numHostile; h++ {
		fmt.Fprintf(&b, " %s %d", h, s.Hostile[h])
	}
	fmt.Fprintf(&b, "\nmessages %d, delivered %d (%d sent to a promise), notifies %d, GC deliveries %d, reaps %d\n",
		s.Messages, s.Delivered, s.ViaPromise, s.Notifies, s.GCDeliveries, s.Reaps)
	fmt.Fprintf(&b, "cranks by work: %s\n", countList(s.Work))
	fmt.Fprintf(&b, "splats: %s\n", countList(s.Splats))
	fmt.Fprintf(&b, "terminations: %s\n", countList(s.Terminated))
	fmt.Fprintf(&b, "host sends refused: %s\n", countList(s.Refused))
	fmt.Fprintf(&b, "violations: %s\n", countList(s.Violations))
	fmt.Fprintf(&b, "known checks (counted, not failing): %s; seeds with one: %s\n", countList(s.Known), countList(s.KnownSeeds))
	return b.String()
}

func countList(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
