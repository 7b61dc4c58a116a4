package vat

import (
	"encoding/json"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// A chain of tasks that never await runs on one worker, reused: no
// goroutine per task. Tasks that park each hold a worker until they
// resume, and then give it back.
func TestSchedReusesWorkers(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := newSched()
	var trail []int
	var step func(i int) func()
	step = func(i int) func() {
		return func() {
			trail = append(trail, i)
			if i < 99 {
				s.spawn(step(i + 1))
			}
		}
	}
	s.spawn(step(0))
	require.NoError(t, s.run())
	require.Len(t, trail, 100)
	require.Equal(t, 1, s.made, "100 tasks, one worker")

	// Three tasks park; a fourth wakes them in the order they parked.
	var wakes []func()
	for i := 0; i < 3; i++ {
		s.spawn(func() {
			s.park(func(wake func()) { wakes = append(wakes, wake) })
			trail = append(trail, 100+i)
		})
	}
	require.NoError(t, s.run())
	require.Len(t, s.parked, 3)
	require.Equal(t, 3, s.made, "the idle worker, and two more for the parked tasks")
	s.spawn(func() {
		for _, w := range wakes {
			w()
		}
	})
	require.NoError(t, s.run())
	require.Equal(t, []int{100, 101, 102}, trail[100:], "resumed in the order woken")
	require.Empty(t, s.parked)
	require.Equal(t, 4, s.made, "one more for the waker, as the other three were parked")
	require.Len(t, s.idle, 4, "all four kept for the next tasks")
	s.stop()
}

// A task that calls runtime.Goexit faults the vat, and the exit does not
// reach the driver's goroutine (here the test's, which would end). Stop
// then lets the exit finish on a goroutine of its own.
func TestSchedGoexitIsAFault(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := newSched()
	deferred := false
	s.spawn(func() {
		defer func() { deferred = true }()
		runtime.Goexit()
	})
	require.ErrorIs(t, s.run(), errGoexit)
	require.True(t, deferred, "the task's deferred calls ran")
	require.Len(t, s.dead, 1)
	s.stop()
}

// Await outside a task (on a goroutine vat code started itself, or on the
// driver) is the vat's fault, not a hang.
func TestSchedParkOutsideATask(t *testing.T) {
	s := newSched()
	defer s.stop()
	require.PanicsWithValue(t, true, func() {
		defer func() {
			r := recover()
			_, isFault := r.(*faultPanic)
			panic(isFault)
		}()
		s.park(func(func()) {})
	})
}

// Stopping an incarnation ends its parked and idle workers.
func TestSchedStopEndsWorkers(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s := newSched()
	exited := make(chan struct{})
	s.spawn(func() {
		defer close(exited) // deferred calls run as the task exits
		s.park(func(func()) {})
		t.Error("resumed after stop")
	})
	s.spawn(func() {})
	require.NoError(t, s.run())
	require.Len(t, s.parked, 1)
	s.stop()
	require.ErrorIs(t, s.run(), errStopped)
	<-exited // on a goroutine of its own; goleak checks it ended
}

// The counters are written as encoding/json writes them (startVat reads
// them back with it).
func TestCountersJSON(t *testing.T) {
	for _, c := range []idCounters{{}, {1, 2, 3}, {Object: 1<<64 - 1, Promise: 10, Kind: 99}} {
		want, err := json.Marshal(c)
		require.NoError(t, err)
		require.Equal(t, string(want), string(c.appendJSON(nil)))
		var back idCounters
		require.NoError(t, json.Unmarshal(c.appendJSON(nil), &back))
		require.Equal(t, c, back)
	}
}
