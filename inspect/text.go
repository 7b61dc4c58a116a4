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
const maxValue = 60

// WriteText renders the report for a person: one section per table,
// aligned columns, the auditor's verdict last.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	where := r.Path
	if where == "" {
		where = "(in memory)"
	}
	p("store %s: %s, %s, %s, %s, %s, %d queued", where, plural(r.Cranks, "crank"), plural(len(r.Subclusters), "subcluster"),
		plural(len(r.Vats), "vat"), plural(len(r.Objects), "object"), plural(len(r.Promises), "promise"), len(r.Queue))

	p("\nSUBCLUSTERS")
	if len(r.Subclusters) == 0 {
		p("  (none)")
	}
	for _, s := range r.Subclusters {
		var vats []string
		for name, id := range s.Vats {
			vats = append(vats, name+"="+id)
		}
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
		note := ""
		if o.Revoked {
			note = "revoked"
		}
		owner := o.Owner
		if owner == "" {
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
			decider = "(kernel)"
		}
		subs := strings.Join(pr.Subscribers, ",")
		if pr.HostSubscribed {
			subs = strings.TrimPrefix(subs+",host", ",")
		}
		value := ""
		if pr.Value != nil {
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
		default:
			p("  %d\tnotify\t%s\tof %s", i+1, q.Vat, q.KPID)
		}
	}
	if len(r.GCActions) > 0 || len(r.Reaps) > 0 {
		p("\nGC WORK")
		for _, a := range r.GCActions {
			p("  %s\t%s\t%s", a.Vat, a.Kind, a.KRef)
		}
		for _, v := range r.Reaps {
			p("  %s\tbringOutYourDead", v)
		}
	}

	if len(r.Problems) > 0 {
		p("\nUNREADABLE: %d row(s) the inspector could not make sense of", len(r.Problems))
		for _, prob := range r.Problems {
			p("  %s", prob)
		}
	}
	if r.Audit.OK {
		p("\nAUDIT: ok (every reference count, recomputed from scratch, agrees)")
	} else if len(r.Audit.Problems) > 0 {
		p("\nAUDIT: %d problem(s)", len(r.Audit.Problems))
		for _, prob := range r.Audit.Problems {
			p("  %s", prob)
		}
	}
	return tw.Flush()
}

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
