package kernel

import (
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/persistence"
)

// The Describe functions render kernel state as deterministic text, for
// scenario tests and the inspector. Refs appear as they are: this text is
// for people debugging the kernel, never for a vat or a promise.

// DescribeCList renders vat's c-list, one entry per line.
func DescribeCList(st *persistence.Store, vat VatID) string {
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

// DescribeObjects renders every kernel object.
func DescribeObjects(st *persistence.Store) string {
	var b strings.Builder
	for _, kref := range st.ObjectKRefs() {
		o, _ := st.Object(kref)
		owner := o.Owner
		if owner == "" {
			owner = "(orphaned)"
		}
		fmt.Fprintf(&b, "%s owner=%s refs=%d,%d", kref, owner, o.Reachable, o.Recognizable)
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

// DescribePromises renders every kernel promise.
func DescribePromises(st *persistence.Store) string {
	var b strings.Builder
	for _, kpid := range st.PromiseKPIDs() {
		p, _ := st.Promise(kpid)
		fmt.Fprintf(&b, "%s %s refs=%d", kpid, p.State, p.RefCount)
		if p.State == persistence.PromiseUnresolved {
			decider := p.Decider
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

// DescribeQueue renders the run queue, GC actions and reaps.
func DescribeQueue(st *persistence.Store) string {
	var b strings.Builder
	for _, a := range st.GCActions() {
		fmt.Fprintf(&b, "gc %s %s %s\n", a.Vat, a.Kind, a.KRef)
	}
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
// promises and queues.
func DescribeState(st *persistence.Store) string {
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

func indent(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}

// DescribeCrank renders a crank result on one line.
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

// DescribeOutput renders an Output.
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
