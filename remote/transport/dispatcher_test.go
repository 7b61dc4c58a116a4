package transport

import (
	"bytes"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"
)

// goroutineID is the running goroutine's number, from its stack's first
// line ("goroutine N [running]:"): the only way Go exposes it, and a test
// needs nothing more.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := bytes.Fields(buf)
	return string(f[1])
}

// An actor on a Dispatcher takes every message, across many wakes from
// idle, on one goroutine, one at a time and in order; after Stop the
// dispatcher drops work without blocking its caller.
func TestDispatcherOneGoroutine(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	d := NewDispatcher()
	var (
		seen    = map[string]bool{}
		got     []int
		inside  atomic.Int32
		overlap atomic.Bool
	)
	batch := make(chan int)
	const n = 200
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if i, ok := c.Message().(int); ok {
			if inside.Add(1) > 1 {
				overlap.Store(true)
			}
			seen[goroutineID()] = true
			got = append(got, i)
			inside.Add(-1)
			if i%10 == 9 {
				batch <- i
			}
		}
	}, actor.WithDispatcher(d)))
	// In batches of ten, each taken whole before the next is sent: the
	// mailbox goes idle between them and is scheduled again, and under
	// the default dispatcher each wake is a new goroutine.
	for i := 0; i < n; i++ {
		sys.Root.Send(pid, i)
		if i%10 == 9 {
			select {
			case <-batch:
			case <-time.After(10 * time.Second):
				t.Fatal("the actor did not take a batch")
			}
		}
	}
	require.NoError(t, sys.Root.StopFuture(pid).Wait())
	d.Stop()
	require.False(t, overlap.Load(), "two messages were taken at once")
	require.Len(t, got, n)
	for i, v := range got {
		require.Equal(t, i, v, "messages out of order")
	}
	require.Len(t, seen, 1, "every message on the dispatcher's one goroutine")

	ran := make(chan struct{})
	d.Schedule(func() { close(ran) }) // must return: the dispatcher is stopped
	d.Stop()                          // a second Stop does nothing
	select {
	case <-ran:
		t.Fatal("work ran after Stop")
	default:
	}
}
