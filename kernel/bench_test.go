package kernel_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
)

func benchCrank(b *testing.B, path string, opts persistence.Options) {
	ctx := context.Background()
	st, k, pp, err := kt.OpenPingPong(ctx, path, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	for i := 0; i < 200; i++ { // warm the statement cache and the maps
		if _, err := k.Crank(ctx, pp); err != nil {
			b.Fatal(err)
		}
	}
	rows0 := st.Stats().Rows
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r, err := k.Crank(ctx, pp)
		if err != nil || r.Outcome != kernel.Committed {
			b.Fatalf("crank: %v %v", r.Outcome, err)
		}
	}
	if _, err := k.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "cranks/s")
	b.ReportMetric(float64(st.Stats().Rows-rows0)/float64(b.N), "rows/crank")
	if problems, err := kernel.Audit(ctx, st); err != nil || len(problems) > 0 {
		b.Fatalf("audit after benchmark: %v %v", err, problems)
	}
}

// BenchmarkCrank measures the kernel's crank rate on the ping-pong
// workload (kerneltest.PingPong: half the cranks are pings with 3
// syscalls, half are notifies) for each store and commit policy. Quote
// cranks/s; see BENCHMARKS.md.
func BenchmarkCrank(b *testing.B) {
	group := persistence.Options{Policy: persistence.Group, GroupCranks: 100, GroupInterval: time.Hour}
	cases := []struct {
		name string
		file bool
		opts persistence.Options
	}{
		{"memory/durable", false, persistence.Options{}},
		{"memory/group", false, group},
		{"file/durable", true, persistence.Options{}},
		{"file/durable-normal", true, persistence.Options{Synchronous: persistence.SyncNormal}},
		{"file/group", true, group},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			path := ""
			if c.file {
				path = filepath.Join(b.TempDir(), "k.db")
			}
			benchCrank(b, path, c.opts)
		})
	}
}

// The benchmark's workload is what BENCHMARKS.md says it is: every crank
// delivers to a vat that makes exactly 3 syscalls, pings and notifies
// alternate, and the state does not grow.
func TestPingPongWorkload(t *testing.T) {
	d := kt.New(t)
	pp, err := kt.NewPingPong(d.Ctx, d.K)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[kernel.WorkKind]int{}
	var promises, objects int
	for i := 0; i < 200; i++ {
		r, err := d.K.Crank(d.Ctx, pp)
		if err != nil || r.Outcome != kernel.Committed || r.Syscalls != 3 {
			t.Fatalf("crank %d: %v %v, %d syscalls", i, r.Outcome, err, r.Syscalls)
		}
		kinds[r.Work]++
		if i == 99 {
			promises, objects = d.Store.PromiseCount(), d.Store.ObjectCount()
		}
	}
	d.AuditNow("ping-pong")
	// The host's first ping has no notify to pair with it.
	if kinds[kernel.WorkSend] != 101 || kinds[kernel.WorkNotify] != 99 {
		t.Fatalf("want pings and notifies to alternate, got %v", kinds)
	}
	if d.Store.PromiseCount() != promises || d.Store.ObjectCount() != objects {
		t.Fatalf("state grows: promises %d -> %d, objects %d -> %d", promises, d.Store.PromiseCount(), objects, d.Store.ObjectCount())
	}
}
