package kerneltest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Inspection commands beyond the kernel's whole listings (clist, objects,
// promises, queue, state): one object's or promise's line, what a vat was
// delivered, the vats and subclusters, a ping, revocation, the kernel's vat
// lifecycle log and a vat's vatstore. Each prints deterministic text (the
// kernel's Describe* functions, or lines made here from the store, in a
// fixed order), so that -rewrite output can be reviewed line by line
// against what the anchor expects. None changes the kernel.

// cmdObject runs "object KOID...": each object's line of
// kernel.DescribeObjects (owner, counts, pins), or that it is gone.
func (s *scenario) cmdObject(td *datadriven.TestData) (string, error) {
	return s.pickLines(td, "object KOID...", kernel.DescribeObjects(s.d.Store), "gone")
}

// cmdPromise runs "promise KPID... [absent=unknown]": each promise's line
// of kernel.DescribePromises (state, refcount, decider, subscribers,
// queue, value), or, for one the kernel does not have (never made, or
// freed), KPID gone; with absent=unknown, KPID (no such promise).
func (s *scenario) cmdPromise(td *datadriven.TestData) (string, error) {
	absent := "gone"
	if a, ok := td.Arg("absent"); ok {
		if len(a.Vals) != 1 || a.Vals[0] != "unknown" {
			return "", fmt.Errorf("promise KPID... [absent=unknown]")
		}
		absent = "(no such promise)"
	}
	return s.pickLines(td, "promise KPID... [absent=unknown]", kernel.DescribePromises(s.d.Store), absent)
}

// pickLines prints, for each kref (or root:NAME) the command names, its
// line of a Describe listing (the line that starts with the kref), or
// "KREF ABSENT". Picking from the kernel's own listing, rather than
// rendering a row here, keeps one rendering of a row: an object's line
// reads the same in object as in objects.
func (s *scenario) pickLines(td *datadriven.TestData, usage, listing, absent string) (string, error) {
	pos := positional(td)
	if len(pos) == 0 {
		return "", fmt.Errorf("%s", usage)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(listing, "\n") {
		if kref, _, ok := strings.Cut(l, " "); ok {
			lines[kref] = l
		}
	}
	var b strings.Builder
	for _, p := range pos {
		kref, err := s.hostRef(p)
		if err != nil {
			return "", err
		}
		if l, ok := lines[string(kref)]; ok {
			b.WriteString(l + "\n")
		} else {
			fmt.Fprintf(&b, "%s %s\n", kref, absent)
		}
	}
	return b.String(), nil
}

// cmdDeliveries runs "deliveries vat=NAME": everything NAME was delivered.
func (s *scenario) cmdDeliveries(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, dv := range v.Deliveries {
		b.WriteString(DescribeDelivery(dv) + "\n")
	}
	return b.String(), nil
}

// cmdDelivered runs "delivered vat=NAME": what NAME was delivered since
// the last delivered of that vat, so that a long scenario can check each
// step's deliveries without repeating the earlier ones.
func (s *scenario) cmdDelivered(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	from := s.delivered[v.ID]
	s.delivered[v.ID] = len(v.Deliveries)
	if from == len(v.Deliveries) {
		return "(nothing)\n", nil
	}
	var b strings.Builder
	for _, dv := range v.Deliveries[from:] {
		b.WriteString(DescribeDelivery(dv) + "\n")
	}
	return b.String(), nil
}

// cmdVats lists every vat the kernel knows, active or terminated (a
// terminated vat's record stays, with its last incarnation), in the
// kernel's order.
func (s *scenario) cmdVats() string {
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

// cmdSubclusters lists the subclusters with their vats and the state of
// their bootstrap: the kernel remembers the bootstrap promise, so a host
// that restarted can still learn how its launch ended.
func (s *scenario) cmdSubclusters() string {
	var b strings.Builder
	for _, sc := range s.d.K.Subclusters() {
		fmt.Fprintf(&b, "%s bootstrap=%s vats=", sc.ID, sc.Bootstrap)
		for i, n := range slices.Sorted(maps.Keys(sc.Vats)) {
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

// cmdPing runs "ping vat=NAME", answering as the runtime's PingVat does:
// pong with the vat's incarnation while it is active and its endpoint
// answers. It delivers nothing (a ping is no crank), so it reads the
// kernel's record and the fake vat's endpoint state.
func (s *scenario) cmdPing(td *datadriven.TestData) (string, error) {
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

// cmdIsRevoked runs "is-revoked TARGET": whether the kernel says the object
// is revoked.
func (s *scenario) cmdIsRevoked(td *datadriven.TestData) (string, error) {
	pos := positional(td)
	if len(pos) != 1 {
		return "", fmt.Errorf("is-revoked TARGET")
	}
	kref, err := s.hostRef(pos[0])
	if err != nil {
		return "", err
	}
	revoked, err := s.d.K.IsRevoked(kref)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%v\n", revoked), nil
}

// cmdVatLog runs "vatlog [vat=NAME] [ids]": the kernel's vat lifecycle log
// (incarnations begun, failures, terminations), oldest first, of NAME or of
// every vat. Each line begins with its vat's id with ids, or without vat
// (where the lines are of several vats and must say whose they are).
func (s *scenario) cmdVatLog(td *datadriven.TestData) (string, error) {
	vat, ids := "", true
	if td.HasArg("vat") {
		v, err := s.vatArg(td)
		if err != nil {
			return "", err
		}
		vat, ids = string(v.ID), td.HasArg("ids")
	}
	events, err := s.d.Store.VatEvents(s.d.Ctx, vat)
	if err != nil {
		return "", err
	}
	if len(events) == 0 {
		return "(empty)\n", nil
	}
	var b strings.Builder
	for _, e := range events {
		if ids {
			fmt.Fprintf(&b, "%s ", e.Vat)
		}
		fmt.Fprintf(&b, "incarnation=%d %s at crank %d: %s\n", e.Incarnation, e.Event, e.AtCrank, e.Reason)
	}
	return b.String(), nil
}

// cmdVatstore runs "vatstore vat=NAME": NAME's vatstore, one KEY = VALUE a
// line, in key order.
func (s *scenario) cmdVatstore(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	keys := s.d.Store.VatstoreKeys(string(v.ID))
	if len(keys) == 0 {
		return "(empty)\n", nil
	}
	var b strings.Builder
	for _, k := range keys {
		val, _ := s.d.Store.VatstoreGet(string(v.ID), k)
		fmt.Fprintf(&b, "%s = %s\n", k, val)
	}
	return b.String(), nil
}
