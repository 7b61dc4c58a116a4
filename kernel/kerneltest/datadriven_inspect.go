package kerneltest

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/datadriven"

	"github.com/ocapgo/kernel-actors/kernel"
)

// Inspection commands for the ports of the anchors' test families: one
// promise's state, the test log that scripts write, what a vat received
// since the last look, a vat's lifecycle log and its vatstore. Each prints
// deterministic text (the kernel's Describe* functions, or lines made
// here from the store), so that -rewrite output can be reviewed line by
// line against what the anchor expects.

// moreState is the scenario state the commands of datadriven_*.go keep.
type moreState struct {
	// testLog holds the lines scripts wrote with "log", in order;
	// testLogSeen is how many the testlog command has printed.
	testLog     []string
	testLogSeen int
	// delivered is, per vat, how many of its deliveries the delivered
	// command has printed.
	delivered map[kernel.VatID]int
}

// cmdPromise prints "promise KPID...": each promise's line of
// kernel.DescribePromises (state, refcount, decider, subscribers, queue,
// value), or that the kernel no longer has it.
func (s *scenario) cmdPromise(td *datadriven.TestData) (string, error) {
	return pickLines(td, "promise KPID...", kernel.DescribePromises(s.d.Store))
}

// cmdObject prints "object KOID...": each object's line of
// kernel.DescribeObjects (owner, counts, pins), or that it is gone.
func (s *scenario) cmdObject(td *datadriven.TestData) (string, error) {
	return pickLines(td, "object KOID...", kernel.DescribeObjects(s.d.Store))
}

// pickLines prints, for each kref the command names, its line of a
// Describe listing (lines that start with the kref), or "KREF gone".
func pickLines(td *datadriven.TestData, usage, listing string) (string, error) {
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
		if l, ok := lines[p]; ok {
			b.WriteString(l + "\n")
		} else {
			fmt.Fprintf(&b, "%s gone\n", p)
		}
	}
	return b.String(), nil
}

// cmdTestLog prints the test log lines written since the last testlog.
func (s *scenario) cmdTestLog() string {
	lines := s.more.testLog[s.more.testLogSeen:]
	s.more.testLogSeen = len(s.more.testLog)
	if len(lines) == 0 {
		return "(empty)\n"
	}
	return strings.Join(lines, "\n") + "\n"
}

// cmdDelivered prints what vat=NAME was delivered since the last
// delivered of that vat (the deliveries command prints them all).
func (s *scenario) cmdDelivered(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	if s.more.delivered == nil {
		s.more.delivered = map[kernel.VatID]int{}
	}
	from := s.more.delivered[v.ID]
	s.more.delivered[v.ID] = len(v.Deliveries)
	if from == len(v.Deliveries) {
		return "(nothing)\n", nil
	}
	var b strings.Builder
	for _, dv := range v.Deliveries[from:] {
		b.WriteString(DescribeDelivery(dv) + "\n")
	}
	return b.String(), nil
}

// cmdVatLog prints vat=NAME's lifecycle log (incarnations begun, failures,
// termination), oldest first.
func (s *scenario) cmdVatLog(td *datadriven.TestData) (string, error) {
	v, err := s.vatArg(td)
	if err != nil {
		return "", err
	}
	events, err := s.d.Store.VatEvents(s.d.Ctx, string(v.ID))
	if err != nil {
		return "", err
	}
	if len(events) == 0 {
		return "(empty)\n", nil
	}
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintf(&b, "incarnation=%d %s at crank %d: %s\n", e.Incarnation, e.Event, e.AtCrank, e.Reason)
	}
	return b.String(), nil
}

// cmdVatstore prints vat=NAME's vatstore, one KEY = VALUE per line.
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
