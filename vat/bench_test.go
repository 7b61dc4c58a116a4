package vat_test

import (
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// BenchmarkRoundTrip measures a vat-to-vat round trip through liveslots on
// the synchronous driver (in-memory store, durable commit per crank): alice
// awaits E(bob).echo(i) b.N times in one method. A round trip is two
// cranks: the send to bob and the notify back to alice, whose method
// resumes in it.
func BenchmarkRoundTrip(b *testing.B) {
	reg := vat.NewRegistry()
	reg.MustRegister("alice", func(vc *vat.Context) (any, error) {
		var bob any
		return vat.Far("alice", vat.Methods{
			"bootstrap": func(c *vat.Call) (any, error) { bob = c.Arg(0).(map[string]any)["bob"]; return nil, nil },
			"run": func(c *vat.Call) (any, error) {
				n, _ := marshal.Int(c.Arg(0))
				var last any
				for i := int64(0); i < n; i++ {
					v, err := vat.E(bob).Send("echo", i).Await()
					if err != nil {
						return nil, err
					}
					last = v
				}
				return last, nil
			},
		}), nil
	})
	reg.MustRegister("bob", func(vc *vat.Context) (any, error) {
		return vat.Far("bob", vat.Methods{
			"echo": func(c *vat.Call) (any, error) { return c.Arg(0), nil },
		}), nil
	})
	l, res, _, err := runLocal(reg, kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: "alice"}, "bob": {Bundle: "bob"},
	}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := l.call(res.RootKref, msg("run", 100)); err != nil { // warm up
		b.Fatal(err)
	}
	cranks0 := l.k.CrankCount()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	v, err := l.call(res.RootKref, msg("run", b.N))
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil || v != int64(b.N-1) {
		b.Fatalf("run: %v %v", v, err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "roundtrips/s")
	b.ReportMetric(float64(l.k.CrankCount()-cranks0)/elapsed.Seconds(), "cranks/s")
}
