package kernel

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/persistence"
)

// Rows that load but do not parse. The store keeps ids, refs, states and
// configs as text it never interprets (persistence refuses only what it
// cannot load at all); the kernel reads them with its own parsers, and a
// row it cannot read is a row it would skip, misroute or lose. So the
// auditor reads every such value the way the kernel does and reports, in
// a line that names the row, each one that does not parse:
//
//   - ids: subcluster sN, vat vN, object koN and promise kpN keys, and the
//     vat ids in owners, deciders, subscribers, c-lists, notifies and GC
//     actions (the krefs in slots, values, targets and results are checked
//     where the auditor counts them, in ref);
//   - states and kinds: vat states, promise states, GC action kinds (run
//     queue kinds are checked where the queue is counted);
//   - configs: a vat's and a subcluster's config row must be the JSON
//     the kernel wrote, or the vat drops out of resume;
//   - links: an active vat's subcluster must exist and list it by name,
//     and every vatstore entry must belong to a vat the store knows.
//
// It also checks that every GC action names an object the kernel could
// have allocated, for a vat that is still active, and, for an export
// action, the object's own exporter.

// vatConfigOf parses a vat row's config, as the kernel reads it. The
// kernel and the auditor share it, so "does not parse" means the same to
// both: a vat the auditor passes is one that Vat (and so the runtime, at
// every start) and the restart policy can read.
func vatConfigOf(row persistence.VatRow) (VatConfig, error) {
	var cfg VatConfig
	if err := json.Unmarshal([]byte(row.Config), &cfg); err != nil {
		return VatConfig{}, fmt.Errorf("config row %q is not a vat config: %w", abbrev(row.Config), err)
	}
	return cfg, nil
}

// clusterConfigOf parses a subcluster row's config, as the kernel reads it.
func clusterConfigOf(row persistence.SubclusterRow) (ClusterConfig, error) {
	var cfg ClusterConfig
	if err := json.Unmarshal([]byte(row.Config), &cfg); err != nil {
		return ClusterConfig{}, fmt.Errorf("config row %q is not a cluster config: %w", abbrev(row.Config), err)
	}
	return cfg, nil
}

// abbrev shortens a value quoted in a problem line: a config row can be
// large, and the line only needs to show which one.
func abbrev(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}

// checkRows reports the rows that load but do not parse.
func (a *auditor) checkRows() {
	configs := map[string]ClusterConfig{} // the subclusters that parse
	// Subclusters first, so the vats below can be checked against their
	// subcluster's parsed config.
	for _, id := range a.st.SubclusterIDs() {
		row, _ := a.st.Subcluster(id)
		if !hasNumber(id, "s") {
			a.problem("subcluster %q: id does not parse (want s<N>)", id)
		}
		cfg, err := clusterConfigOf(row)
		if err != nil {
			a.problem("subcluster %s: %v", id, err)
			continue
		}
		// Launch validated it before storing it; one that fails now was
		// written by something else.
		if err := cfg.Validate(); err != nil {
			a.problem("subcluster %s: config row: %v", id, err)
		}
		// The row keeps the bootstrap name beside the config; the two are
		// written together and must agree.
		if cfg.Bootstrap != row.Bootstrap {
			a.problem("subcluster %s: bootstrap %q, but its config says %q", id, row.Bootstrap, cfg.Bootstrap)
		}
		configs[id] = cfg
	}
	for _, id := range a.st.VatIDs() {
		row, _ := a.st.Vat(id)
		a.vatID(id, "vat row")
		switch row.State {
		case persistence.VatActive, persistence.VatTerminated:
		default:
			a.problem("vat %s: unknown state %q", id, row.State)
		}
		// A config that does not parse, or names no bundle, is a vat that
		// cannot be restarted or resumed (its code cannot be found).
		if cfg, err := vatConfigOf(row); err != nil {
			a.problem("vat %s: %v", id, err)
		} else if cfg.Bundle == "" && cfg.BundleSpec == "" {
			a.problem("vat %s: config row names no bundle", id)
		}
		if row.State != persistence.VatActive || row.Subcluster == "" {
			continue
		}
		// An active vat's subcluster exists (terminateSubclusterLocked
		// terminates its vats in the unit that deletes it), so resume and
		// Subclusters() see every vat that runs.
		if _, ok := a.st.Subcluster(row.Subcluster); !ok {
			a.problem("vat %s: names subcluster %s, which does not exist", id, row.Subcluster)
		} else if cfg, ok := configs[row.Subcluster]; ok {
			if _, named := cfg.Vats[row.Name]; !named {
				a.problem("vat %s: named %q, which subcluster %s's config does not list", id, row.Name, row.Subcluster)
			}
		}
	}
	for _, vat := range a.st.VatstoreVats() {
		// Vatstore entries belong to a vat row (invariant 9: terminating a
		// vat deletes its entries in the same unit). Entries of a vat the
		// kernel does not know are never deleted, and a vat that later
		// got the id (a rewound next_vat) would start on another vat's
		// durable state.
		if _, ok := a.st.Vat(vat); !ok {
			a.vatID(vat, "vatstore entries")
			a.problem("vatstore: %d entries for vat %s, which does not exist", len(a.st.VatstoreKeys(vat)), vat)
		}
	}
	// Object and promise keys: a row under a key that does not parse is
	// one no kref can name, so nothing could ever reach or free it.
	for _, s := range a.st.ObjectKRefs() {
		if !KRef(s).IsObject() || !hasNumber(s, "ko") {
			a.problem("object row %q: kref does not parse (want ko<N>)", s)
		}
		// The kernel's own objects' owner is no vat: checkKernelObject.
		if o, _ := a.st.Object(s); o.Owner != "" && o.Owner != kernelEndpoint {
			a.vatID(o.Owner, "object "+s+" owner")
		}
	}
	for _, s := range a.st.PromiseKPIDs() {
		if !KRef(s).IsPromise() || !hasNumber(s, "kp") {
			a.problem("promise row %q: kref does not parse (want kp<N>)", s)
		}
		p, _ := a.st.Promise(s)
		// An unknown state would be routed as a fulfilled promise (the
		// router's default), and never settled.
		switch p.State {
		case persistence.PromiseUnresolved, persistence.PromiseFulfilled, persistence.PromiseRejected:
		default:
			a.problem("promise %s: unknown state %q", s, p.State)
		}
		if p.Decider != "" {
			a.vatID(p.Decider, "promise "+s+" decider")
		}
		for _, sub := range p.Subscribers {
			a.vatID(sub, "promise "+s+" subscriber")
		}
	}
	// A notify's vat is not a kref, so ref never sees it: checked here.
	for i, it := range a.st.QueueItems() {
		if it.Kind == persistence.QueueNotify {
			a.vatID(it.Vat, fmt.Sprintf("run queue item %d (notify)", i))
		}
	}
}

// checkGCActions reports GC actions that name what cannot be collected:
// an unknown kind, a kref that is not an object the kernel allocated, a
// vat that is not active (terminating a vat drops its actions), or, for
// dropExport and retireExport, a vat that does not export the object. (An
// action may name an object that is gone: it no longer applies, and is
// dropped when its turn comes.)
func (a *auditor) checkGCActions() {
	// Every kref below next_object was allocated once; one at or above it
	// never was, so an action naming it was not written by the kernel.
	next := a.st.PeekID(persistence.MetaNextObject)
	for _, g := range a.st.GCActions() {
		from := fmt.Sprintf("GC action %s %s for %s", g.Kind, g.KRef, g.Vat)
		switch g.Kind {
		case persistence.GCDropExport, persistence.GCRetireExport, persistence.GCRetireImport:
		default:
			a.problem("%s: unknown kind %q", from, g.Kind)
		}
		n, ok := idNumber(g.KRef, "ko")
		switch {
		case !ok:
			a.problem("%s: names %q, which is not an object kref", from, g.KRef)
		case n >= next:
			a.problem("%s: names unknown object %s (never allocated: next_object is %d)", from, g.KRef, next)
		}
		if row, ok := a.st.Vat(g.Vat); ok && row.State != persistence.VatActive {
			a.problem("%s: vat %s is not active", from, g.Vat)
		}
		// The kernel queues export actions only for the object's owner
		// (maybeFreeObject). (An orphan has no owner to compare;
		// gcActionApplies drops an export action for it.)
		if g.Kind == persistence.GCDropExport || g.Kind == persistence.GCRetireExport {
			if o, ok := a.st.Object(g.KRef); ok && o.Owner != "" && o.Owner != g.Vat {
				a.problem("%s: %s is exported by %s, not %s", from, g.KRef, o.Owner, g.Vat)
			}
		}
	}
}

// vatID reports a vat id that does not parse.
func (a *auditor) vatID(id, from string) {
	if isRemoteEndpoint(id) {
		return // an endpoint that is a remote: checkRemoteNames
	}
	if _, err := ParseVatID(id); err != nil {
		a.problem("%s: %v", from, err)
	}
}

// idNumber is the number of an id written prefix<N> in the kernel's one
// spelling (no sign, no leading zero), and whether it is one.
func idNumber(id, prefix string) (uint64, bool) {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok {
		return 0, false
	}
	n, err := parseNumber(rest)
	return n, err == nil
}

// hasNumber reports whether id is prefix<N> in the kernel's one spelling.
func hasNumber(id, prefix string) bool {
	_, ok := idNumber(id, prefix)
	return ok
}
