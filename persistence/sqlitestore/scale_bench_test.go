package sqlitestore_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/persistence/sqlitestore"
)

// The benchmarks here show that a crank's cost does not grow with what
// earlier units did: with many messages outstanding (fan-out), and after
// one unit that touched 100k objects. A store or kernel that kept a map
// sized for the big unit would make every later crank pay for it (a Go
// map keeps its capacity when cleared, and ranging over it costs that
// capacity). Each reports ns/crank; compare the sub-benchmarks of one run.

// fanOut is a two-vat workload: vat a, told "go", sends n pings to b
// without awaiting and subscribes to every result; b answers each. So a
// "go" is 1 + n + n cranks: the go, n pings, n notifies back to a, with up
// to n messages outstanding.
type fanOut struct {
	n       int
	peer    kernel.VRef // a's import of b's root
	next    int         // a's last promise number
	settled int         // notifies a has had
}

func (f *fanOut) Deliver(ctx context.Context, vat kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) error {
	switch d.Kind {
	case kernel.DeliverNotify:
		f.settled += len(d.Resolutions)
		return nil
	case kernel.DeliverMessage:
	default:
		return nil
	}
	switch kt.MethodOf(d.Message.Methargs) {
	case "meet":
		f.peer = kernel.VRef(d.Message.Methargs.Slots[0])
	case "go":
		ping := kt.Methargs("ping")
		for i := 0; i < f.n; i++ {
			f.next++
			result := kernel.VRef("p+" + strconv.Itoa(f.next))
			if r := sys.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: f.peer,
				Message: kernel.VatMessage{Methargs: ping, Result: result}}); r.Err != nil {
				return fmt.Errorf("%w: fan-out send: %v", kernel.ErrVatFault, r.Err)
			}
			if r := sys.Syscall(kernel.Syscall{Kind: kernel.SyscallSubscribe, VPID: result}); r.Err != nil {
				return fmt.Errorf("%w: fan-out subscribe: %v", kernel.ErrVatFault, r.Err)
			}
		}
	}
	if d.Message.Result != "" {
		sys.Syscall(kernel.Syscall{Kind: kernel.SyscallResolve,
			Resolutions: []kernel.VatResolution{{VPID: d.Message.Result, Data: kt.Undefined}}})
	}
	return nil
}

// runUntilIdle cranks k until it has no work, returning the cranks run.
func runUntilIdle(b *testing.B, ctx context.Context, k *kernel.Kernel, d kernel.Deliverer) int {
	n := 0
	for k.HasWork() {
		r, err := k.Crank(ctx, d)
		if err != nil || r.Outcome != kernel.Committed {
			b.Fatalf("crank: %v %v %v", r.Outcome, r.Failure, err)
		}
		n++
	}
	return n
}

// BenchmarkFanOut runs the fan-out workload with n outstanding messages
// and reports the cost per crank: the same at n=100k as at n=1k when no
// per-unit map keeps the capacity of the biggest unit.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			ctx := context.Background()
			st, err := sqlitestore.Open(ctx, "", persistence.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close(ctx)
			k, err := kernel.New(kernel.Config{Store: st, MaxDeliverySends: n, MaxDeliverySyscalls: 2*n + 10})
			if err != nil {
				b.Fatal(err)
			}
			f := &fanOut{n: n}
			res, _, err := k.Launch(ctx, f, kernel.ClusterConfig{Bootstrap: "a",
				Vats: map[string]kernel.VatConfig{"a": {Bundle: "fanout"}, "b": {Bundle: "fanout"}}}, kernel.LaunchOptions{NoBootstrap: true})
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := k.QueueMessage(ctx, res.Roots["a"], kt.Methargs("meet", kernel.VRef(res.Roots["b"]))); err != nil {
				b.Fatal(err)
			}
			runUntilIdle(b, ctx, k, f)
			b.ReportAllocs()
			b.ResetTimer()
			cranks := 0
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, _, err := k.QueueMessage(ctx, res.Roots["a"], kt.Methargs("go")); err != nil {
					b.Fatal(err)
				}
				cranks += runUntilIdle(b, ctx, k, f)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if f.settled != b.N*n {
				b.Fatalf("a saw %d of %d pings settle", f.settled, b.N*n)
			}
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(cranks), "ns/crank")
			b.ReportMetric(float64(cranks)/elapsed.Seconds(), "cranks/s")
		})
	}
}

// bigVat is a vat beside a ping-pong that, told "flood", sends its own
// root one message carrying n fresh exports. Delivering that message
// drops the queue's references to all n at once, so the kernel frees n
// objects, queues n GC actions and removes n c-list entries: a few units
// that each touch n objects.
type bigVat struct {
	*kt.PingPong
	vat   kernel.VatID
	n     int
	holds int // "hold" deliveries seen
}

func (v *bigVat) Deliver(ctx context.Context, vat kernel.VatID, d kernel.Delivery, sys kernel.Syscaller) error {
	if vat != v.vat {
		return v.PingPong.Deliver(ctx, vat, d, sys)
	}
	if d.Kind != kernel.DeliverMessage {
		return nil // GC deliveries: the exports are forgotten
	}
	switch kt.MethodOf(d.Message.Methargs) {
	case "hold":
		v.holds++
	case "flood":
		slots := make([]kernel.VRef, v.n)
		for i := range slots {
			slots[i] = kernel.VRef("o+" + strconv.Itoa(i+1))
		}
		if r := sys.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: "o+0",
			Message: kernel.VatMessage{Methargs: kt.Methargs("hold", slots...)}}); r.Err != nil {
			return fmt.Errorf("%w: flood: %v", kernel.ErrVatFault, r.Err)
		}
	}
	if d.Message.Result != "" {
		sys.Syscall(kernel.Syscall{Kind: kernel.SyscallResolve,
			Resolutions: []kernel.VatResolution{{VPID: d.Message.Result, Data: marshal.CapData{Body: `#"#undefined"`}}}})
	}
	return nil
}

// BenchmarkCrankAfterBigUnit measures a ping-pong crank before and after
// units that touched 100k objects (bigVat's flood, its delivery, and the
// GC that follows). The two should cost the same.
func BenchmarkCrankAfterBigUnit(b *testing.B) {
	for _, c := range []struct {
		name  string
		flood bool
	}{{"before", false}, {"after", true}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			st, k, pp, err := kt.OpenPingPong(ctx, "", persistence.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close(ctx)
			res, _, err := k.Launch(ctx, pp, kernel.ClusterConfig{Bootstrap: "big",
				Vats: map[string]kernel.VatConfig{"big": {Bundle: "big"}}}, kernel.LaunchOptions{NoBootstrap: true})
			if err != nil {
				b.Fatal(err)
			}
			bv := &bigVat{PingPong: pp, vat: res.VatIDs["big"], n: 100_000}
			crank := func() {
				if r, err := k.Crank(ctx, bv); err != nil || r.Outcome != kernel.Committed {
					b.Fatalf("crank: %v %v %v", r.Outcome, r.Failure, err)
				}
			}
			objects := st.ObjectCount()
			if c.flood {
				if _, _, err := k.QueueMessage(ctx, res.RootKref, kt.Methargs("flood")); err != nil {
					b.Fatal(err)
				}
				// Crank (ping-pong interleaved) until the n objects have
				// come and gone again.
				peak := 0
				for i := 0; i < 1000 && (bv.holds == 0 || st.ObjectCount() > objects || st.GCActionCount() > 0); i++ {
					crank()
					peak = max(peak, st.ObjectCount())
				}
				if peak < bv.n || st.ObjectCount() > objects {
					b.Fatalf("flood: objects %d -> peak %d -> %d", objects, peak, st.ObjectCount())
				}
			}
			for i := 0; i < 200; i++ {
				crank()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				crank()
			}
		})
	}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkLiveHeap runs b.N ping-pong cranks on the in-memory store and
// reports the live heap before and after, and its growth per crank: zero
// when nothing the store or kernel keeps grows with the crank count. Run
// it long, e.g. -benchtime=10000000x.
func BenchmarkLiveHeap(b *testing.B) {
	ctx := context.Background()
	st, k, pp, err := kt.OpenPingPong(ctx, "", persistence.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close(ctx)
	crank := func() {
		if r, err := k.Crank(ctx, pp); err != nil || r.Outcome != kernel.Committed {
			b.Fatalf("crank: %v %v %v", r.Outcome, r.Failure, err)
		}
	}
	for i := 0; i < 10_000; i++ {
		crank()
	}
	before := liveHeap()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		crank()
	}
	b.StopTimer()
	after := liveHeap()
	b.ReportMetric(float64(before)/(1<<20), "live-MiB-before")
	b.ReportMetric(float64(after)/(1<<20), "live-MiB-after")
	b.ReportMetric((float64(after)-float64(before))/float64(b.N), "heap-B/crank")
}
