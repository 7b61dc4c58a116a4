package kernel

import (
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/persistence"
)

// The Describe functions render kernel state as deterministic text, for
// scenario tests and the inspector. Refs appear as they are: this text is
// for people debugging the kernel, never for a vat or a promise.
//
// Deterministic means: the same store gives the same bytes. Every listing
// comes from the store in its own order (ids by number, the run queue by
// position, GC actions by vat, kind and kref), never from a Go map, so the
// scenario files in kernel/testdata can hold the text as their expected
// output. Changing a format changes every scenario that shows it; run the
// scenario test with -rewrite and review the diff.
//
// The functions read a store, not a Kernel, so that the inspector can
// describe a database opened read-only with no kernel over it.

// DescribeCList renders vat's c-list, one entry per line:
//
//	<kref> <flag> <vref>
//
// where flag is R for reachable and _ for an entry the vat can only
// recognize (an import it dropped, or an export the kernel told it
// nobody can reach). An empty c-list (a terminated vat) is "(empty)".
func DescribeCList(st persistence.Reader, vat VatID) string {
	var b strings.Builder
	for _, kref := range st.CListKRefs(string(vat)) {
		e, _ := st.CList(string(vat), kref)
		flag := "R"
		if !e.Reachable {
			flag = "_"
		}
		fmt.Fprintf(&b, "%s %s %s\n", kref, flag, e.VRef)
	}
	if b.Len() == 0 {
		return "(empty)\n"
	}
	return b.String()
}

// DescribeObjects renders every kernel object, one per line:
//
//	<koid> owner=<vat|(orphaned)> refs=<reachable>,<recognizable> [pins=N] [revoked]
//
// The refs are the counts as stored (refcount.go), which the auditor
// checks against what the rest of the state implies; pins, when there
// are any, are included in them.
func DescribeObjects(st persistence.Reader) string {
	var b strings.Builder
	for _, kref := range st.ObjectKRefs() {
		o, _ := st.Object(kref)
		owner := o.Owner
		// Orphaned: exporter terminated, restarted past it, or abandoned
		// it; sends to it splat OBJECT_DELETED.
		if owner == "" {
			owner = "(orphaned)"
		}
		fmt.Fprintf(&b, "%s owner=%s refs=%d,%d", kref, owner, o.Reachable, o.Recognizable)
		// Optional fields are left out at their zero value, so the common
		// line stays short.
		if o.Pins > 0 {
			fmt.Fprintf(&b, " pins=%d", o.Pins)
		}
		if o.Revoked {
			b.WriteString(" revoked")
		}
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		return "(none)\n"
	}
	return b.String()
}

// DescribePromises renders every kernel promise, one per line:
//
//	<kpid> unresolved refs=N decider=<vat|(kernel)> [subscribers=v1,v2] [queued=N] [host]
//	<kpid> fulfilled|rejected refs=N value=<capdata>
//
// An unresolved promise shows who may settle it and who waits; a settled
// one only its value, since settling drops the rest, host flag included
// (resolve). "host" marks a promise the host awaits.
func DescribePromises(st persistence.Reader) string {
	var b strings.Builder
	for _, kpid := range st.PromiseKPIDs() {
		p, _ := st.Promise(kpid)
		fmt.Fprintf(&b, "%s %s refs=%d", kpid, p.State, p.RefCount)
		if p.State == persistence.PromiseUnresolved {
			decider := p.Decider
			// The kernel decides a queued message's result (syscallSend).
			if decider == "" {
				decider = "(kernel)"
			}
			fmt.Fprintf(&b, " decider=%s", decider)
			if len(p.Subscribers) > 0 {
				fmt.Fprintf(&b, " subscribers=%s", strings.Join(p.Subscribers, ","))
			}
			if n := p.QueueTail - p.QueueHead; n > 0 {
				fmt.Fprintf(&b, " queued=%d", n)
			}
		} else {
			fmt.Fprintf(&b, " value=%s", toCapData(p.Value))
		}
		if p.HostSubscribed {
			b.WriteString(" host")
		}
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		return "(none)\n"
	}
	return b.String()
}

// DescribeQueue renders the run queue, GC actions and reaps, in the order
// a crank takes them (pickWork): GC actions first, then the next reap,
// then the run queue from its head:
//
//	gc <vat> <kind> <koid>
//	reap <vat> (and N more)
//	send <target> <methargs> [-> <result>]
//	notify <vat> <kpid>
//
// Messages waiting on an unresolved promise are not here: they are in the
// promise's own queue (DescribePromises' queued=N).
func DescribeQueue(st persistence.Reader) string {
	var b strings.Builder
	for _, a := range st.GCActions() {
		fmt.Fprintf(&b, "gc %s %s %s\n", a.Vat, a.Kind, a.KRef)
	}
	// Only the next reap is named: which one comes next is what a crank
	// depends on, the rest is a count.
	if vat, ok := st.NextReap(); ok {
		fmt.Fprintf(&b, "reap %s (and %d more)\n", vat, st.ReapCount()-1)
	}
	for _, it := range st.QueueItems() {
		switch it.Kind {
		case persistence.QueueSend:
			fmt.Fprintf(&b, "send %s %s", it.Target, toCapData(it.Message.Methargs))
			if it.Message.Result != "" {
				fmt.Fprintf(&b, " -> %s", it.Message.Result)
			}
			b.WriteByte('\n')
		case persistence.QueueNotify:
			fmt.Fprintf(&b, "notify %s %s\n", it.Vat, it.KPID)
		}
	}
	if b.Len() == 0 {
		return "(empty)\n"
	}
	return b.String()
}

// DescribeState renders everything: vats with their c-lists, objects,
// promises and queues. Each vat's header line is
//
//	vat <id> "<name>" <state> incarnation=N
//
// followed by its c-list, indented; terminated vats are listed too (their
// rows stay).
func DescribeState(st persistence.Reader) string {
	var b strings.Builder
	for _, id := range st.VatIDs() {
		row, _ := st.Vat(id)
		fmt.Fprintf(&b, "vat %s %q %s incarnation=%d\n", id, row.Name, row.State, row.Incarnation)
		b.WriteString(indent(DescribeCList(st, VatID(id))))
	}
	b.WriteString("objects:\n" + indent(DescribeObjects(st)))
	b.WriteString("promises:\n" + indent(DescribePromises(st)))
	b.WriteString("queue:\n" + indent(DescribeQueue(st)))
	return b.String()
}

// indent puts two spaces before every line of s, which ends with a
// newline.
func indent(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}

// DescribeCrank renders a crank result on one line:
//
//	crank N: <work> [-> <vat>] [(<routed>)] <outcome> [syscalls=N] [failure="..."] [terminated=v] [released=...]
//
// Method is not shown: Crank fills it only with debug logging on, so
// showing it would make the text depend on the log level.
func DescribeCrank(r CrankResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "crank %d: %s", r.Crank, r.Work)
	if r.Vat != "" {
		fmt.Fprintf(&b, " -> %s", r.Vat)
	}
	if r.Routed != "" {
		fmt.Fprintf(&b, " (%s)", r.Routed)
	}
	fmt.Fprintf(&b, " %s", r.Outcome)
	if r.Syscalls > 0 {
		fmt.Fprintf(&b, " syscalls=%d", r.Syscalls)
	}
	if r.Failure != nil {
		fmt.Fprintf(&b, " failure=%q", r.Failure.Error())
	}
	for _, v := range r.Terminated {
		fmt.Fprintf(&b, " terminated=%s", v)
	}
	for _, o := range r.Released {
		fmt.Fprintf(&b, " released=%s", DescribeOutput(o))
	}
	return b.String()
}

// DescribeOutput renders an Output as <kpid>:<fulfilled|rejected>:<value>,
// with "(aborted)" after the state of an early answer (Output.Aborted).
// ByKernel is not shown.
func DescribeOutput(o Output) string {
	s := "fulfilled"
	if o.Rejected {
		s = "rejected"
	}
	if o.Aborted {
		s += "(aborted)"
	}
	return fmt.Sprintf("%s:%s:%s", o.KPID, s, o.Value)
}
