package vat_test

import (
	"testing"
	"time"

	"github.com/ocapgo/kernel-actors/internal/echovats"
)

// BenchmarkRoundTrip measures a vat-to-vat round trip through liveslots on
// the synchronous driver (in-memory store, durable commit per crank): alice
// awaits E(bob).echo(i) b.N times in one method. A round trip is two
// cranks: the send to bob and the notify back to alice, whose method
// resumes in it.
func BenchmarkRoundTrip(b *testing.B) {
	l, res, _, err := runLocal(echovats.Registry(), echovats.Cluster())
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
