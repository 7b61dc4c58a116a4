package inspect

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/ocapgo/kernel-actors/persistence"
)

// maxValue is how much of a settled promise's body the text shows.
//
// Bodies can be as large as any message; clipping keeps one big value
// from pushing the table off the screen. The JSON has the whole body.
const maxValue = 60

// WriteText renders the report for a person: one section per table,
// aligned columns, the auditor's verdict last.
func (r Report) WriteText(w io.Writer) error {
	// A tabwriter aligns columns whatever the widths of ids and names, so
	// the text stays readable for small and large stores alike.
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// Write errors are not checked per line: tabwriter holds the text
	// until Flush, whose error is the one returned.
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	where := r.Path
	if where == "" {
		where = "(in memory)"
	}
	// The summary line comes first so a person sees the size of the store
	// before the tables, and tests can check a report was written whole.
	p("store %s: %s, %s, %s, %s, %s, %d queued", where, plural(r.Cranks, "crank"), plural(len(r.Subclusters), "subcluster"),
		plural(len(r.Vats), "vat"), plural(len(r.Objects), "object"), plural(len(r.Promises), "promise"), len(r.Queue))

	p("\nSUBCLUSTERS")
	if len(r.Subclusters) == 0 {
		// "(none)" rather than nothing: an empty section is a fact to see, and
		// a missing heading would look like a report cut short.
		p("  (none)")
	}
	for _, s := range r.Subclusters {
		var vats []string
		for name, id := range s.Vats {
			vats = append(vats, name+"="+id)
		}
		// Map order is random; sorting keeps the text stable between runs.
		slices.Sort(vats)
		p("  %s\tbootstrap=%s\t%s", s.ID, s.Bootstrap, strings.Join(vats, " "))
	}

	p("\nVATS\tNAME\tBUNDLE\tSTATE\tINC\tPOLICY\tROOT\tVATSTORE")
	if len(r.Vats) == 0 {
		p("  (none)")
	}
	for _, v := range r.Vats {
		p("  %s\t%s\t%s\t%s\t%d\t%s\t%s\t%s", v.ID, v.Name, v.Bundle, v.State, v.Incarnation, v.FailurePolicy, dash(v.Root), plural(v.Vatstore, "key"))
	}
	// C-lists follow the vats table, one per vat, because they are long and
	// would break up the one-line-per-vat view.
	for _, v := range r.Vats {
		if len(v.CList) == 0 {
			continue
		}
		p("\nC-LIST %s (%s)\tKREF\tVREF\tREACHABLE", v.ID, v.Name)
		for _, e := range v.CList {
			p("\t%s\t%s\t%v", e.KRef, e.VRef, e.Reachable)
		}
	}

	p("\nOBJECTS\tOWNER\tREACHABLE\tRECOGNIZABLE\tPINS\tIMPORTERS\tNOTE")
	if len(r.Objects) == 0 {
		p("  (none)")
	}
	for _, o := range r.Objects {
		// Revocation is a note, not a column, since it is rare and a column of
		// "false" would hide the one that matters.
		note := ""
		if o.Revoked {
			note = "revoked"
		}
		owner := o.Owner
		if owner == "" {
			// An orphaned object has lost its owner vat: shown plainly so it is
			// not mistaken for one owned by the kernel.
			owner = "(orphaned)"
		}
		p("  %s\t%s\t%d\t%d\t%d\t%s\t%s", o.KRef, owner, o.Reachable, o.Recognizable, o.Pins, dash(strings.Join(o.Importers, ",")), note)
	}

	p("\nPROMISES\tSTATE\tDECIDER\tSUBSCRIBERS\tREFS\tQUEUED\tVALUE")
	if len(r.Promises) == 0 {
		p("  (none)")
	}
	for _, pr := range r.Promises {
		decider := pr.Decider
		if pr.State == string(persistence.PromiseUnresolved) && decider == "" {
			// An unresolved promise with no decider is the kernel's to settle;
			// naming that avoids reading the blank as "no one".
			decider = "(kernel)"
		}
		subs := strings.Join(pr.Subscribers, ",")
		if pr.HostSubscribed {
			// The host is listed among subscribers because it, too, waits on the
			// promise; TrimPrefix handles the case of no vat subscribers.
			subs = strings.TrimPrefix(subs+",host", ",")
		}
		value := ""
		if pr.Value != nil {
			// Clipped by bytes at a rune boundary so the text stays valid UTF-8
			// whatever the body holds.
			value = clip(pr.Value.Body, maxValue)
			if len(pr.Value.Slots) > 0 {
				value += " " + strings.Join(pr.Value.Slots, ",")
			}
		}
		p("  %s\t%s\t%s\t%s\t%d\t%d\t%s", pr.KPID, pr.State, dash(decider), dash(subs), pr.RefCount, pr.Queued, value)
	}

	p("\nRUN QUEUE")
	if len(r.Queue) == 0 {
		p("  (empty)")
	}
	for i, q := range r.Queue {
		switch persistence.QueueKind(q.Kind) {
		case persistence.QueueSend:
			p("  %d\tsend\t%s.%s\t-> %s", i+1, q.Target, q.Method, dash(q.Result))
		// Anything not a send is shown as a notify; an unknown kind is already
		// listed as a problem by Read, so the row is still shown.
		default:
			p("  %d\tnotify\t%s\tof %s", i+1, q.Vat, q.KPID)
		}
	}
	// The GC section is left out when empty: it is the usual case, and
	// pending GC work is then what stands out.
	if len(r.GCActions) > 0 || len(r.Reaps) > 0 {
		p("\nGC WORK")
		for _, a := range r.GCActions {
			p("  %s\t%s\t%s", a.Vat, a.Kind, a.KRef)
		}
		for _, v := range r.Reaps {
			p("  %s\tbringOutYourDead", v)
		}
	}

	// UNREADABLE comes before AUDIT and both come last, where a person
	// reading to the end, or a script taking the tail, finds the verdict.
	if len(r.Problems) > 0 {
		p("\nUNREADABLE: %d row(s) the inspector could not make sense of", len(r.Problems))
		for _, prob := range r.Problems {
			p("  %s", prob)
		}
	}
	// An audit that was not run prints neither line, so the text never
	// claims "ok" for a store that was not checked.
	if r.Audit.OK {
		p("\nAUDIT: ok (every reference count, recomputed from scratch, agrees)")
	} else if len(r.Audit.Problems) > 0 {
		p("\nAUDIT: %d problem(s)", len(r.Audit.Problems))
		for _, prob := range r.Audit.Problems {
			p("  %s", prob)
		}
	}
	// Flush's error is the first write error, so a closed pipe is reported.
	return tw.Flush()
}

// dash stands "-" in for an empty cell, since tabwriter would otherwise
// leave a gap that makes the next column look shifted.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip shortens s to n bytes at a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// INVARIANT: the cut never splits a multi-byte rune, so clipped text
	// is valid UTF-8 even when the body holds arbitrary bytes.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// plural says n things: "1 vat", "2 vats", "0 vats".
func plural[N int | uint64](n N, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
