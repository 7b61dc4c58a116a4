package kernel_test

import (
	"testing"

	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
)

// BenchmarkRemoteRoundTrip measures one cross-kernel round trip in one
// process, with no transport: A's host sends a deposit to B's bank, A's
// crank writes it to the outbox, B applies it, cranks, writes the answer,
// A applies that, and both acks trim the outboxes (in-memory stores,
// durable commit, the auditor off). It is the kernels' share of a remote
// round trip; the transport's is measured across processes.
func BenchmarkRemoteRoundTrip(b *testing.B) {
	a, bk := kt.New(b), kt.New(b)
	a.Audit, bk.Audit = false, false
	l := kt.Connect(a, bk)
	_, root := bank(bk)
	presence := l.Introduce(root)
	ab, ba := l.AB(), l.BA()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		kp := a.Call(presence, "deposit", int64(1))
		a.RunUntilQuiescent(0)
		ab.Pump(nil, true)
		bk.RunUntilQuiescent(0)
		ba.Pump(nil, true)
		if _, ok := a.Result(kp); !ok {
			b.Fatal("no answer")
		}
	}
}
