package bench

import (
	"context"
	"testing"
	"time"
)

// The go test -bench twins of the bench command's workloads, for
// profiling a crank:
//
//	go test ./bench -run '^$' -bench Pingpong -cpuprofile cpu.out
//	go tool pprof -top bench.test cpu.out
//
// An iteration is one message of the workload (a round trip for
// pingpong, bigstore and bigcrank), on a kernel started, set up and
// warmed up outside the timer; each reports cranks/s and the crank
// latencies besides ns/op and the allocations. Each runs on the three
// stores the command does: memory, file-durable and file-group.

// benchStores are the stores and policies each twin runs on.
var benchStores = []struct{ name, store, commit string }{
	{"memory", StoreMemory, CommitDurable},
	{"file-durable", StoreFile, CommitDurable},
	{"file-group", StoreFile, CommitGroup},
}

// benchWorkload runs workload w for b.N messages on each store, with o's
// workload options.
func benchWorkload(b *testing.B, w string, o Options) {
	for _, sc := range benchStores {
		b.Run(sc.name, func(b *testing.B) {
			ctx := context.Background()
			o := o
			o.Workload, o.Store, o.Commit, o.Dir = w, sc.store, sc.commit, b.TempDir()
			o, err := o.withDefaults()
			if err != nil {
				b.Fatal(err)
			}
			s, err := openSession(ctx, o, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				if err := s.close(ctx); err != nil {
					b.Error(err)
				}
			}()
			if err := s.w.run(ctx, s, 100); err != nil { // warm up
				b.Fatal(err)
			}
			if err := s.k.WaitIdle(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			r, err := s.measure(ctx, b.N)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r.CranksPerSec, "cranks/s")
			b.ReportMetric(float64(r.Cranks)/float64(b.N), "cranks/op")
			b.ReportMetric(r.CrankP50US, "p50-µs")
			b.ReportMetric(r.CrankP99US, "p99-µs")
		})
	}
}

// BenchmarkPingpong: alice awaits E(bob).ping(i), b.N times.
func BenchmarkPingpong(b *testing.B) { benchWorkload(b, "pingpong", Options{}) }

// BenchmarkFanout: alice sends b.N pings, then awaits them all.
func BenchmarkFanout(b *testing.B) { benchWorkload(b, "fanout", Options{}) }

// BenchmarkExternal: the host's QueueMessage to bob, b.N times in a row.
func BenchmarkExternal(b *testing.B) { benchWorkload(b, "external", Options{}) }

// BenchmarkPipeline: b.N sends in chains of DefaultK.
func BenchmarkPipeline(b *testing.B) { benchWorkload(b, "pipeline", Options{}) }

// BenchmarkManyvats: a token passed b.N times around DefaultVats vats.
func BenchmarkManyvats(b *testing.B) { benchWorkload(b, "manyvats", Options{}) }

// BenchmarkBigstore: ping-pong with DefaultObjects live objects.
func BenchmarkBigstore(b *testing.B) { benchWorkload(b, "bigstore", Options{}) }

// BenchmarkBigcrank: ping-pong after a crank that made
// DefaultBigCrankObjects objects (dropped and collected before the timer
// starts).
func BenchmarkBigcrank(b *testing.B) { benchWorkload(b, "bigcrank", Options{}) }

// BenchmarkActorFloor: b.N bare protoactor request/responses between two
// actors, the floor the workloads' ratios are taken against.
func BenchmarkActorFloor(b *testing.B) {
	ctx := context.Background()
	p := newActorPair()
	defer p.close()
	if err := p.trips(ctx, 1000); err != nil { // warm up
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if err := p.trips(ctx, b.N); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSQLiteFloor: bare SQLite transactions of a ping-pong crank's
// rows (one single-row statement a row), the other floor; it reports a
// transaction's time.
func BenchmarkSQLiteFloor(b *testing.B) {
	var f Floors
	if err := sqliteFloor(context.Background(), time.Duration(b.N)*time.Millisecond/10, b.TempDir(), &f); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(f.SQLiteTxUS, "µs/tx")
	b.ReportMetric(f.SQLiteRowsPerTx, "rows/tx")
}
