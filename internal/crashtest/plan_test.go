package crashtest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
)

// The short form aims a flush kill at every kind of operation and every
// commit boundary at least once, whatever the seed; and a seed gives the
// same plans every time, which is what makes -crash.seed a replay.
func TestKillPlansCoverEveryPointAndReplay(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 0xdeadbeef} {
		plans := killPlans(seed, defaultKills)
		require.Equal(t, plans, killPlans(seed, defaultKills), "seed %d", seed)
		aimed := map[string]bool{}
		timed := 0
		for _, p := range plans {
			switch p.Mode {
			case modeFlush:
				require.True(t, p.N >= 1 && p.N <= maxN[p.Kind], "seed %d: %v", seed, p)
				aimed[fmt.Sprintf("%s %s", p.Kind, p.Point)] = true
			case modeTime:
				require.True(t, p.Delay >= 0 && p.Delay < maxTimeKill, "seed %d: %v", seed, p)
				timed++
			}
		}
		require.Len(t, aimed, len(flushKinds)*len(flushPoints), "seed %d: pairs aimed at", seed)
		require.Equal(t, defaultKills/timeKillEvery, timed, "seed %d: time kills", seed)
	}
}

// The schedule is a function of the seed, the index and the world it
// sees: a replay that sees the same cluster chooses the same operation.
// With too few intact subclusters it launches; it never terminates one of
// the kept ones.
func TestScheduleIsSeededAndKeepsItsLedgers(t *testing.T) {
	st := actors.Status{}
	for i, l := range []string{"L0", "L1", "L2"} {
		sc := kernel.SubclusterID(fmt.Sprintf("s%d", i+1))
		lv, rv := kernel.VatID(fmt.Sprintf("v%d", 2*i+1)), kernel.VatID(fmt.Sprintf("v%d", 2*i+2))
		cfg := clusterConfig(l)
		st.Subclusters = append(st.Subclusters, kernel.SubclusterInfo{ID: sc, Config: cfg,
			Vats: map[string]kernel.VatID{"ledger": lv, "relay": rv}})
		st.Vats = append(st.Vats,
			kernel.VatInfo{ID: lv, Name: "ledger", Subcluster: sc, Config: cfg.Vats["ledger"], Active: true, Root: kernel.KRef(fmt.Sprintf("ko%d", 2*i+1))},
			kernel.VatInfo{ID: rv, Name: "relay", Subcluster: sc, Config: cfg.Vats["relay"], Active: true, Root: kernel.KRef(fmt.Sprintf("ko%d", 2*i+2))})
	}
	w := worldOf(st)
	kinds := map[opKind]int{}
	for i := 0; i < 2000; i++ {
		o := nextOp(7, i, w)
		require.Equal(t, o, nextOp(7, i, w), "op %d", i)
		kinds[o.Kind]++
		switch o.Kind {
		case opTerminateVat:
			require.Equal(t, kernel.SubclusterID("s3"), o.Subcluster, "op %d terminates a kept subcluster's vat", i)
		case opTerminateSubcluster:
			require.Equal(t, kernel.SubclusterID("s3"), o.Subcluster, "op %d terminates a kept subcluster", i)
		}
	}
	for _, x := range weights {
		require.NotZero(t, kinds[x.kind], "never chose %s", x.kind)
	}
	require.Equal(t, opLaunch, nextOp(7, 0, worldOf(actors.Status{})).Kind, "an empty world launches")
}
