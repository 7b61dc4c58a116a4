package crashtest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ocapgo/kernel-actors/persistence"
)

// stats are the figures of a run, for its summary (and RELIABILITY.md).
type stats struct {
	kills      int
	byMode     map[killMode]int
	flushAt    map[string]int // "kind point" -> flush kills that landed there
	flushIndex map[string]int // "kind #n" -> flush kills at an operation's nth flush
	timeIn     map[string]int // what a time kill cut: an operation kind, or "between"
	problems   map[string]int // category -> problems
	byPolicy   map[string]int // "category policy" -> problems

	ackedChecked       int         // acknowledged effects found exactly once, summed over every check
	ackedByTrial       map[int]int // trial -> acknowledged effects in its side ledger
	ackedTerminated    int         // acknowledged effects not checked: their ledger was terminated as asked
	cutApplied         int         // effects cut by a kill found applied once after the resume
	cutAbsent          int         // effects cut by a kill found not applied
	launchChecks       int         // launches found complete (bootstrap once, result readable), summed over every check
	cutLaunchCompleted int         // launches cut by a kill that completed after the resume
	cutLaunchVanished  int         // launches cut by a kill that left nothing
	ops                int         // operations begun
	missed             int         // flush kills that fell back to the next flush, the plan's kind not coming
}

func newStats() *stats {
	return &stats{byMode: map[killMode]int{}, flushAt: map[string]int{}, flushIndex: map[string]int{},
		timeIn: map[string]int{}, problems: map[string]int{}, byPolicy: map[string]int{}, ackedByTrial: map[int]int{}}
}

// kill records where a kill landed, from the child's side-ledger lines.
func (s *stats) kill(plan killPlan, lines []entry) {
	s.kills++
	s.byMode[plan.Mode]++
	ops := map[int]bool{}
	for _, e := range lines {
		if e.Ev == evBegin {
			ops[e.Op] = true
		}
	}
	s.ops += len(ops)
	if plan.Mode == modeFlush {
		if k, ok := killLine(lines); ok {
			if k.Kind != plan.Kind {
				s.missed++ // the plan's kind did not come in time: the kill fell back
			}
			s.flushAt[fmt.Sprintf("%s %s", k.Kind, k.Point)]++
			// #0 is a flush that began before the operation did and
			// reached the boundary after.
			s.flushIndex[fmt.Sprintf("%s #%d", k.Kind, k.Flush)]++
		}
		return
	}
	if e, ok := cut(lines); ok {
		s.timeIn[string(e.Kind)]++
	} else {
		s.timeIn["between operations or in resume"]++
	}
}

func (s *stats) problem(cat string, policy persistence.CommitPolicy) {
	s.problems[cat]++
	s.byPolicy[fmt.Sprintf("%s %s", cat, policy)]++
}

func sum(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (s *stats) total() int {
	n := 0
	for _, v := range s.problems {
		n += v
	}
	return n
}

func (s *stats) byCategory() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.problems)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, s.problems[k]))
	}
	return strings.Join(parts, ", ")
}

func (s *stats) summary() []string {
	out := []string{
		fmt.Sprintf("kills: %d (%d at a flush boundary, %d of them fallen back to the next flush; %d at a random time); operations begun: %d",
			s.kills, s.byMode[modeFlush], s.missed, s.byMode[modeTime], s.ops),
		fmt.Sprintf("acknowledged effects: %d; checks that found one exactly once: %d (after each kill, every acknowledged "+
			"effect is checked before and after the resume); skipped, their ledger terminated as asked: %d",
			sum(s.ackedByTrial), s.ackedChecked, s.ackedTerminated),
		fmt.Sprintf("effects cut by a kill: %d applied once, %d not applied", s.cutApplied, s.cutAbsent),
		fmt.Sprintf("launches cut by a kill: %d completed after the resume, %d left nothing; launches found complete in %d checks",
			s.cutLaunchCompleted, s.cutLaunchVanished, s.launchChecks),
		fmt.Sprintf("lost: %d, duplicated: %d; problems: %d (%s)",
			s.problems[catLost], s.problems[catDuplicated], s.total(), s.byCategory()),
	}
	out = append(out, "problems by category and commit policy:")
	for _, k := range slices.Sorted(maps.Keys(s.byPolicy)) {
		out = append(out, fmt.Sprintf("  %-40s %d", k, s.byPolicy[k]))
	}
	out = append(out, "flush kills by operation and boundary:")
	for _, k := range slices.Sorted(maps.Keys(s.flushAt)) {
		out = append(out, fmt.Sprintf("  %-40s %d", k, s.flushAt[k]))
	}
	out = append(out, "flush kills by operation and which of its flushes (#0: one begun before it):")
	for _, k := range slices.Sorted(maps.Keys(s.flushIndex)) {
		out = append(out, fmt.Sprintf("  %-40s %d", k, s.flushIndex[k]))
	}
	out = append(out, "time kills by what they cut:")
	for _, k := range slices.Sorted(maps.Keys(s.timeIn)) {
		out = append(out, fmt.Sprintf("  %-40s %d", k, s.timeIn[k]))
	}
	return out
}
