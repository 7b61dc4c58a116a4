package actors

import (
	"encoding/binary"
	"flag"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

var causeSeed = flag.Uint64("cause-seed", 0, "seed of TestCauseQueueFollowsTheRunQueue's operations (0: a new one, printed)")

// The cause queue answers as the map from position to cause it replaced
// would, over a random run queue: items queued at the tail in bursts,
// with a cause or without, and taken from the head by cranks, some of
// which (GC work) take none. Its slice is reused as it drains: it grows
// to about twice the most it held at once, however long the run.
func TestCauseQueueFollowsTheRunQueue(t *testing.T) {
	seed := *causeSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("cause seed %d (replay with -cause-seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	var q causeQueue
	type cause struct {
		sc      trace.SpanContext
		inherit bool
	}
	model := map[uint64]cause{}
	at := func(pos uint64) cause {
		sc, inherit := q.at(pos)
		return cause{sc, inherit}
	}
	var head, tail uint64
	most := 0 // the most causes held at once
	span := func(pos uint64) trace.SpanContext {
		var sid trace.SpanID
		binary.BigEndian.PutUint64(sid[:], pos+1)
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: sid})
	}
	for range 20000 {
		switch {
		case rng.IntN(3) == 0: // a message queues a burst, with a cause or not
			n := uint64(rng.IntN(4))
			caused := rng.IntN(2) == 0
			for pos := tail; pos < tail+n; pos++ {
				if caused {
					inherit := rng.IntN(2) == 0
					q.push(pos, span(pos), inherit)
					model[pos] = cause{span(pos), inherit}
				}
			}
			tail += n
		case head < tail && rng.IntN(5) > 0: // a crank takes the head
			require.Equal(t, model[head], at(head), "position %d", head)
			q.pop(head)
			delete(model, head)
			head++
		default: // a crank with no queue item looks at the head
			if head < tail {
				require.Equal(t, model[head], at(head), "position %d", head)
			}
		}
		held := len(q.items) - q.first
		require.Equal(t, len(model), held)
		most = max(most, held)
	}
	require.LessOrEqual(t, cap(q.items), 2*(2*most+4), "the slice is reused as it drains")
	require.Equal(t, cause{}, at(tail), "nothing past the tail")
}
