package actors_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/internal/echovats"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/persistence"
)

// benchStores are the stores the benchmarks run on.
var benchStores = []struct {
	name string
	cfg  func(b *testing.B) actors.Config
}{
	{"memory", func(*testing.B) actors.Config { return actors.Config{} }},
	{"file-durable", func(b *testing.B) actors.Config {
		return actors.Config{DBPath: filepath.Join(b.TempDir(), "k.db")}
	}},
	{"file-group", func(b *testing.B) actors.Config {
		return actors.Config{DBPath: filepath.Join(b.TempDir(), "k.db"), CommitPolicy: persistence.Group}
	}},
}

func benchKernel(b *testing.B, cfg actors.Config) (*actors.Kernel, kernel.LaunchResult) {
	cfg.Registry = echovats.Registry()
	ctx := context.Background()
	k, err := actors.Start(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { k.Stop(ctx) })
	res, err := k.LaunchSubcluster(ctx, echovats.Cluster())
	if err != nil {
		b.Fatal(err)
	}
	return k, res
}

func cranksRun(b *testing.B, k *actors.Kernel) uint64 {
	st, err := k.Status(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return st.CranksRun
}

// BenchmarkQueueMessage measures the host's round trip: QueueMessage to
// bob's echo and wait for the answer, one at a time. Each is one crank
// (the delivery; the result goes to the host, not to a vat) plus the
// host's request and reply through the kernel actor's mailbox.
func BenchmarkQueueMessage(b *testing.B) {
	for _, s := range benchStores {
		b.Run(s.name, func(b *testing.B) {
			ctx := context.Background()
			k, res := benchKernel(b, s.cfg(b))
			bob := res.Roots["bob"]
			c0 := cranksRun(b, k)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := k.QueueMessage(ctx, bob, "echo", i); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
			b.ReportMetric(float64(cranksRun(b, k)-c0)/float64(b.N), "cranks/call")
		})
	}
}

// BenchmarkPingPong measures a vat-to-vat round trip through the actors:
// alice awaits E(bob).echo(i) b.N times in one method. Each round trip is
// two cranks (the send to bob, the notify back to alice), each a
// runCrank message to the kernel actor and a delivery to a vat actor,
// answered through the channel pump.
func BenchmarkPingPong(b *testing.B) {
	for _, s := range benchStores {
		b.Run(s.name, func(b *testing.B) {
			ctx := context.Background()
			k, res := benchKernel(b, s.cfg(b))
			if _, err := k.QueueMessage(ctx, res.RootKref, "run", 100); err != nil { // warm up
				b.Fatal(err)
			}
			c0 := cranksRun(b, k)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			v, err := k.QueueMessage(ctx, res.RootKref, "run", b.N)
			elapsed := time.Since(start)
			b.StopTimer()
			if err != nil || v != int64(b.N-1) {
				b.Fatalf("run: %v %v", v, err)
			}
			cranks := cranksRun(b, k) - c0 - 1 // less the delivery of run itself
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "roundtrips/s")
			b.ReportMetric(float64(cranks)/elapsed.Seconds(), "cranks/s")
		})
	}
}
