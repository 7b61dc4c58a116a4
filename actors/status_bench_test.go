package actors_test

import (
	"context"
	"flag"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
)

// statusVats sets BenchmarkStatus's size.
var statusVats = flag.Int("status-vats", 10_000, "BenchmarkStatus: vats to launch")

// BenchmarkStatus asks a kernel with -status-vats small pageable vats
// (100 to a subcluster, a cap of 1,000, so most are paged out) for its
// Status, as `kernel-actors vats` and the control API's status do:
//
//	go test -run '^$' -bench BenchmarkStatus -count 5 ./actors/
func BenchmarkStatus(b *testing.B) {
	ctx := context.Background()
	k, err := actors.Start(ctx, actors.Config{Registry: idleRegistry(), MaxLiveVats: 1000})
	require.NoError(b, err)
	defer k.Stop(ctx)
	n := *statusVats
	for launched := 0; launched < n; {
		c := kernel.ClusterConfig{Vats: map[string]kernel.VatConfig{}}
		for j := 0; j < 100 && launched+j < n; j++ {
			name := fmt.Sprintf("v%03d", j)
			c.Vats[name] = kernel.VatConfig{Bundle: "idle", Pageable: true}
			c.Bootstrap = name
		}
		_, err := k.LaunchSubcluster(ctx, c)
		require.NoError(b, err)
		launched += len(c.Vats)
	}
	require.NoError(b, k.WaitIdle(ctx))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := k.Status(ctx)
		if err != nil || len(st.Vats) != n {
			b.Fatalf("status: %d vats, %v", len(st.Vats), err)
		}
	}
}
