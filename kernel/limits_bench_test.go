package kernel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
)

// BenchmarkDeliveryAtLimits measures what a legitimate delivery can still
// do at the default per-delivery limits, and what it costs the kernel (the
// crank that makes it, in memory, durable commit): one delivery that
// reaches each limit. See BENCHMARKS.md, "Per-delivery limits".
//
//   - sends: DefaultMaxDeliverySends sends, each with a result promise,
//     to another vat's object. ns/op is the crank; ns/send is per send;
//     drain-ns/send is what the kernel then spends delivering each of them
//     (timed apart, off the clock of ns/op).
//   - syscalls: DefaultMaxDeliverySyscalls vatstore reads.
//   - bytes: DefaultMaxDeliveryBytes, less the delivery's own small
//     syscalls, as three vatstore values of the largest default size and
//     one send carrying the rest as a string argument.
func BenchmarkDeliveryAtLimits(b *testing.B) {
	b.Run("sends", func(b *testing.B) {
		d := kt.New(b)
		d.Audit = false
		res := d.Launch("a", "a", "b")
		d.Vat("a").OnMethod["go"] = func(c *kt.Call) error {
			// Exactly the limit (the fulfil of the result is no send).
			for i := 0; i < kernel.DefaultMaxDeliverySends; i++ {
				c.Send(c.Slot(0), "x")
			}
			c.Fulfill(c.Result(), kt.Undefined)
			if c.Err != nil {
				b.Fatal(c.Err)
			}
			return nil
		}
		var drain time.Duration
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			d.Send(res.Roots["a"], "go", res.Roots["b"])
			b.StartTimer()
			r := d.Crank()
			if r.Outcome != kernel.Committed {
				b.Fatalf("crank: %v %v", r.Outcome, r.Failure)
			}
			b.StopTimer()
			start := time.Now()
			d.RunUntilQuiescent(3 * kernel.DefaultMaxDeliverySends)
			drain += time.Since(start)
			b.StartTimer()
		}
		n := float64(b.N) * kernel.DefaultMaxDeliverySends
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/send")
		b.ReportMetric(float64(drain.Nanoseconds())/n, "drain-ns/send")
	})
	b.Run("syscalls", func(b *testing.B) {
		d := kt.New(b)
		d.Audit = false
		res := d.Launch("a", "a")
		d.Vat("a").OnMethod["go"] = func(c *kt.Call) error {
			for i := 0; i < kernel.DefaultMaxDeliverySyscalls-1; i++ {
				c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreGet, Key: "k"})
			}
			c.Fulfill(c.Result(), kt.Undefined)
			if c.Err != nil {
				b.Fatal(c.Err)
			}
			return nil
		}
		b.ReportAllocs()
		for b.Loop() {
			d.Send(res.Roots["a"], "go")
			if r := d.Crank(); r.Outcome != kernel.Committed {
				b.Fatalf("crank: %v %v", r.Outcome, r.Failure)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*kernel.DefaultMaxDeliverySyscalls), "ns/syscall")
	})
	b.Run("bytes", func(b *testing.B) {
		d := kt.New(b)
		d.Audit = false
		res := d.Launch("a", "a", "b")
		value := strings.Repeat("v", kernel.DefaultMaxVatstoreValue)
		const values = 3
		slack := 1 << 10 // the refs and bodies of the send and the fulfil
		arg := strings.Repeat("s", kernel.DefaultMaxDeliveryBytes-values*(kernel.DefaultMaxVatstoreValue+2)-slack)
		methargs, err := marshal.Encode([]any{"x", []any{arg}})
		if err != nil {
			b.Fatal(err)
		}
		d.Vat("a").OnMethod["go"] = func(c *kt.Call) error {
			for i := 0; i < values; i++ {
				c.Syscall(kernel.Syscall{Kind: kernel.SyscallVatstoreSet, Key: "k" + string(rune('0'+i)), Value: value})
			}
			c.Syscall(kernel.Syscall{Kind: kernel.SyscallSend, Target: c.Slot(0), Message: kernel.VatMessage{Methargs: methargs}})
			c.Fulfill(c.Result(), kt.Undefined)
			if c.Err != nil {
				b.Fatal(c.Err)
			}
			return nil
		}
		b.ReportAllocs()
		b.SetBytes(kernel.DefaultMaxDeliveryBytes)
		for b.Loop() {
			b.StopTimer()
			d.Send(res.Roots["a"], "go", res.Roots["b"])
			b.StartTimer()
			if r := d.Crank(); r.Outcome != kernel.Committed {
				b.Fatalf("crank: %v %v", r.Outcome, r.Failure)
			}
			b.StopTimer()
			d.RunUntilQuiescent(0) // b's delivery of the big argument
			b.StartTimer()
		}
	})
}
