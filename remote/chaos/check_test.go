package chaos

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// The checks after a run, on what the clients said was settled and what
// the bank's vat recorded.

// tally counts a run's deposits.
type tally struct {
	Acked      int // deposits the clients saw settled
	Logged     int // entries in the bank's logs
	Lost       int // acknowledged, not in the log
	Doubled    int // in a log more than once
	OutOfOrder int // a log entry not above the one before it
	Skipped    int // a log entry more than one above the one before it
	Unacked    int // in the log, never acknowledged
}

// checkDeposits compares the clients' acknowledgements with the bank's
// logs and returns the counts and a line per problem. The guarantees:
// every acknowledged deposit is in its client's log exactly once, at the
// place its answer says (the bank answered with the log's length); no
// deposit is there twice; and each client's log is increasing (E-order:
// the deposits were sent in order, on one reference). Once the run has
// drained, every logged deposit was also acknowledged.
func checkDeposits(acked map[string]map[int64]int64, logs map[string][]int64) (tally, []string) {
	var t tally
	var problems []string
	clients := make([]string, 0, len(acked))
	for cl := range acked {
		clients = append(clients, cl)
	}
	slices.Sort(clients)
	for _, cl := range clients {
		log := logs[cl]
		times := map[int64]int{}
		t.Logged += len(log)
		// E-order: a client sends its deposits in increasing order on one
		// reference, and the bank must take them in that order. And none
		// is skipped: a restarted client asks again, from the first it has
		// not seen settled, for everything its last incarnation may have
		// sent, and what a client queued is always a prefix of what it
		// meant to (one transaction after another), so the log is 1, 2,
		// 3, ... A gap is a deposit lost behind a later one.
		for i, n := range log {
			prev := int64(0)
			if i > 0 {
				prev = log[i-1]
			}
			switch {
			case n <= prev:
				t.OutOfOrder++
				problems = append(problems, fmt.Sprintf("%s: E-order: entry %d is deposit %d, after %d", cl, i, n, prev))
			case n > prev+1:
				t.Skipped++
				problems = append(problems, fmt.Sprintf("%s: entry %d is deposit %d, after %d: the deposits between are not in the log", cl, i, n, prev))
			}
			if times[n]++; times[n] == 2 {
				t.Doubled++
				problems = append(problems, fmt.Sprintf("%s: deposit %d is in the bank's log twice or more", cl, n))
			}
		}
		ns := make([]int64, 0, len(acked[cl]))
		for n := range acked[cl] {
			ns = append(ns, n)
		}
		slices.Sort(ns)
		t.Acked += len(ns)
		// An acknowledged deposit must be there once, at the place the
		// bank's answer named: an answer from a crank that a kill then
		// undid would name a place the final log gives to another.
		for _, n := range ns {
			count := acked[cl][n]
			switch {
			case times[n] == 0:
				t.Lost++
				problems = append(problems, fmt.Sprintf("%s: deposit %d was acknowledged (answer %d) but is not in the bank's log", cl, n, count))
			case count < 1 || int(count) > len(log) || log[count-1] != n:
				problems = append(problems, fmt.Sprintf("%s: deposit %d was answered %d, but the log does not have it there", cl, n, count))
			}
		}
		// The run ends drained, and a restarted client asks again for
		// everything it had not seen settled: a deposit the bank took is
		// acknowledged in the end, or its answer was lost.
		for n := range times {
			if _, ok := acked[cl][n]; !ok {
				t.Unacked++
				problems = append(problems, fmt.Sprintf("%s: deposit %d is in the bank's log but was never acknowledged", cl, n))
			}
		}
	}
	return t, problems
}

// The checker itself finds each kind of failure it is there for.
func TestCheckDepositsFindsEachFailure(t *testing.T) {
	acked := map[string]map[int64]int64{"c1": {1: 1, 2: 2, 3: 3}}
	good, problems := checkDeposits(acked, map[string][]int64{"c1": {1, 2, 3}})
	require.Empty(t, problems)
	require.Equal(t, tally{Acked: 3, Logged: 3}, good)

	lost, problems := checkDeposits(acked, map[string][]int64{"c1": {1, 2}})
	require.Equal(t, 1, lost.Lost)
	require.Len(t, problems, 1)

	doubled, _ := checkDeposits(acked, map[string][]int64{"c1": {1, 2, 2, 3}})
	require.Equal(t, 1, doubled.Doubled)
	require.Equal(t, 1, doubled.OutOfOrder, "a repeat is also out of order")

	swapped, problems := checkDeposits(acked, map[string][]int64{"c1": {2, 1, 3}})
	require.Equal(t, 1, swapped.OutOfOrder)
	require.Equal(t, 2, swapped.Skipped, "2 comes before 1, and 3 after 1")
	require.Len(t, problems, 5, "the order, two gaps, and two answers that point at the wrong place")

	extra, _ := checkDeposits(acked, map[string][]int64{"c1": {1, 2, 3, 4}})
	require.Equal(t, 1, extra.Unacked)

	gap, _ := checkDeposits(map[string]map[int64]int64{"c1": {1: 1, 3: 2}}, map[string][]int64{"c1": {1, 3}})
	require.Equal(t, 1, gap.Skipped, "deposit 2 is missing behind 3")
}
