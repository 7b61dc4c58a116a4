package actors_test

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ocapgo/kernel-actors/actors"
)

// The actor floor: the cheapest request/response protoactor-go can do
// between two actors, measured in the same run as the kernel's round
// trip, so that the ratio between them holds when the machine's speed
// drifts from day to day (absolute figures do not).

// floorPing asks the floor's server for one answer; floorRun asks the
// client for n round trips and answers when they are done.
type (
	floorPing struct{ i int }
	floorPong struct{ i int }
	floorRun  struct{ n int }
	floorDone struct{}
)

// floorClient makes n round trips to server, one after another, inside
// one Receive, each a ctx.RequestFuture(...).Result() answered by
// ctx.Respond: an actor asks another and waits for the answer, as alice's
// run(n) awaits n answers from bob inside one method. (This is the floor
// the issue measured, 9.8 µs. A request whose answer comes back as a
// later message, with no future, costs about a tenth of it: floorAsync.)
type floorClient struct{ server *actor.PID }

func (c *floorClient) Receive(ctx actor.Context) {
	if m, ok := ctx.Message().(*floorRun); ok {
		for i := 0; i < m.n; i++ {
			r, err := ctx.RequestFuture(c.server, &floorPing{i: i}, time.Hour).Result()
			if err != nil || r.(*floorPong).i != i {
				ctx.Respond(err)
				return
			}
		}
		ctx.Respond(&floorDone{})
	}
}

// floorAsync is floorClient with no futures: each answer arrives as an
// ordinary message, and the next request goes out from there.
type floorAsync struct {
	server *actor.PID
	left   int
	caller *actor.PID
}

func (c *floorAsync) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *floorRun:
		c.left, c.caller = m.n, ctx.Sender()
		c.next(ctx, 0)
	case *floorPong:
		c.next(ctx, m.i+1)
	}
}

func (c *floorAsync) next(ctx actor.Context, i int) {
	if c.left == 0 {
		ctx.Send(c.caller, &floorDone{})
		return
	}
	c.left--
	ctx.Request(c.server, &floorPing{i: i})
}

func floorServer(ctx actor.Context) {
	if m, ok := ctx.Message().(*floorPing); ok {
		ctx.Respond(&floorPong{i: m.i})
	}
}

// floorSystem spawns the floors' actors in a fresh actor system: the
// server, and the two clients (with futures, without).
func floorSystem(b *testing.B) (sys *actor.ActorSystem, client, async *actor.PID) {
	sys = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	server := sys.Root.Spawn(actor.PropsFromFunc(floorServer))
	client = sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &floorClient{server: server} }))
	async = sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return &floorAsync{server: server} }))
	b.Cleanup(sys.Shutdown)
	return sys, client, async
}

// floorRoundTrips makes n bare round trips and returns how long they took.
func floorRoundTrips(b *testing.B, sys *actor.ActorSystem, client *actor.PID, n int) time.Duration {
	start := time.Now()
	r, err := sys.Root.RequestFuture(client, &floorRun{n: n}, time.Hour).Result()
	if _, ok := r.(*floorDone); !ok || err != nil {
		b.Fatalf("floor: %v %v", r, err)
	}
	return time.Since(start)
}

// floorChunk is how many round trips of each kind run before the other's
// turn.
const floorChunk = 500

// BenchmarkRoundTripFloor measures a vat-to-vat round trip through the
// actors kernel (in-memory store; two cranks: alice's send to bob, bob's
// answer back to alice, as in BenchmarkPingPong) and, in the same run, a
// bare protoactor-go request/response between two actors (floorClient).
// It reports both per round trip, their ratio x-floor (the target is at
// most 4), the same two in process CPU time (cpu-ns/roundtrip,
// x-floor-cpu), the allocations of a crank, and for scale the async floor
// (floorAsync). An op is one of each.
//
//	go test -run '^$' -bench RoundTripFloor -count 6 ./actors/
func BenchmarkRoundTripFloor(b *testing.B) {
	ctx := context.Background()
	k, res := benchKernel(b, actors.Config{})
	sys, client, async := floorSystem(b)
	// Warm both up: the vats' first deliveries, the floor's first spawn.
	if _, err := k.QueueMessage(ctx, res.RootKref, "run", 100); err != nil {
		b.Fatal(err)
	}
	floorRoundTrips(b, sys, client, 1000)
	floorRoundTrips(b, sys, async, 1000)
	c0 := cranksRun(b, k)
	var m0, m1 runtime.MemStats
	var kernelTime, floorTime, asyncTime time.Duration
	var kernelCPU, floorCPU time.Duration // process CPU time, when known
	var mallocs, bytes uint64
	b.ResetTimer()
	// The three alternate in chunks, so that all see the same machine:
	// its speed, and how busy its other core is, change within seconds
	// (a wake-up costs less when the woken goroutine can run on the
	// waker's core), and a measurement of one then another would carry
	// that drift into the ratio.
	for done := 0; done < b.N; {
		n := min(b.N-done, floorChunk)
		done += n
		runtime.ReadMemStats(&m0)
		cpu0 := processCPU()
		start := time.Now()
		v, err := k.QueueMessage(ctx, res.RootKref, "run", n)
		kernelTime += time.Since(start)
		cpu1 := processCPU()
		runtime.ReadMemStats(&m1)
		if err != nil || v != int64(n-1) {
			b.Fatalf("run: %v %v", v, err)
		}
		mallocs += m1.Mallocs - m0.Mallocs
		bytes += m1.TotalAlloc - m0.TotalAlloc
		floorTime += floorRoundTrips(b, sys, client, n)
		cpu2 := processCPU()
		kernelCPU += cpu1 - cpu0
		floorCPU += cpu2 - cpu1
		asyncTime += floorRoundTrips(b, sys, async, n)
	}
	b.StopTimer()
	cranks := cranksRun(b, k) - c0 - uint64((b.N+floorChunk-1)/floorChunk) // less the deliveries of run
	rt := float64(kernelTime.Nanoseconds()) / float64(b.N)
	floor := float64(floorTime.Nanoseconds()) / float64(b.N)
	b.ReportMetric(rt, "ns/roundtrip")
	b.ReportMetric(floor, "floor-ns/roundtrip")
	b.ReportMetric(rt/floor, "x-floor")
	b.ReportMetric(float64(asyncTime.Nanoseconds())/float64(b.N), "async-floor-ns/roundtrip")
	if kernelCPU > 0 && floorCPU > 0 {
		// CPU time moves less than wall time with the load of a shared
		// machine (though a busy machine still stretches each wake-up).
		b.ReportMetric(float64(kernelCPU.Nanoseconds())/float64(b.N), "cpu-ns/roundtrip")
		b.ReportMetric(float64(kernelCPU)/float64(floorCPU), "x-floor-cpu")
	}
	b.ReportMetric(float64(mallocs)/float64(cranks), "allocs/crank")
	b.ReportMetric(float64(bytes)/float64(cranks), "B/crank")
}

// BenchmarkActorFloor is the floor alone, with no kernel running beside
// it. It moves with the machine more than the kernel does: on a quiet
// machine, whose other core is idle, a wake-up hands the woken goroutine
// to another thread, and the floor doubles (9-10 µs, against 4-6 µs on a
// busy one or between BenchmarkRoundTripFloor's kernel chunks). The ratio
// that counts is the same-run one; this is for scale.
func BenchmarkActorFloor(b *testing.B) {
	sys, client, async := floorSystem(b)
	floorRoundTrips(b, sys, client, 1000)
	floorRoundTrips(b, sys, async, 1000)
	b.ResetTimer()
	floor := floorRoundTrips(b, sys, client, b.N)
	asyncTime := floorRoundTrips(b, sys, async, b.N)
	b.StopTimer()
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "floor-ns/roundtrip")
	b.ReportMetric(float64(asyncTime.Nanoseconds())/float64(b.N), "async-floor-ns/roundtrip")
}
