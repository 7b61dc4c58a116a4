package actors_test

import (
	"context"
	"crypto/rand"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/identity"
	"github.com/ocapgo/kernel-actors/remote/transport"
	"github.com/ocapgo/kernel-actors/vat"
)

// manualClock is a Clock whose time moves only when the test says
// (advance): its timers fire then, in the order they are due, so the
// test decides when a held ack goes. pending counts the timers neither
// fired nor stopped.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
}

type manualTimer struct {
	at   time.Time
	fire func()
	done bool // fired or stopped
}

func newManualClock() *manualClock { return &manualClock{now: time.Unix(1_800_000_000, 0)} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.AfterFunc(d, func() { ch <- c.Now() })
	return ch
}

func (c *manualClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{at: c.now.Add(d), fire: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.done
		t.done = true
		return was
	}
}

// advance moves the time on by d and fires the timers due by then.
func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*manualTimer
	for _, t := range c.timers {
		if !t.done && !t.at.After(c.now) {
			t.done = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	sort.SliceStable(due, func(i, j int) bool { return due[i].at.Before(due[j].at) })
	for _, t := range due {
		t.fire()
	}
}

func (c *manualClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.done {
			n++
		}
	}
	return n
}

// ackFixture is an actors kernel A with a remote and a manual clock, and
// its peer B, a bare kernel with its pump in the test's goroutine. No
// frame crosses a network: A's frames are taken from its tap (they also
// go to an address nobody listens on), and B's are handed to A's kernel
// actor as a peer's would be (plaintext: the frame's From is believed).
type ackFixture struct {
	t        *testing.T
	ctx      context.Context
	clock    *manualClock
	a        *actors.Kernel
	b        *kt.Driver
	pb       *transport.Pump
	presence kernel.KRef     // A's presence of B's root
	out      chan []byte     // A's frames, as its tap saw them
	aFrames  int             // A's frames taken from out
	bFrames  int             // B's frames handed to A
	toA      kernel.RemoteID // B's remote for A
}

// ackDelay is the fixture's RemoteConfig.AckDelay.
const ackDelay = 2 * time.Millisecond

func newAckFixture(t *testing.T, ctx context.Context, alone bool) *ackFixture {
	f := &ackFixture{t: t, ctx: ctx, clock: newManualClock(), out: make(chan []byte, 64)}
	rc := &actors.RemoteConfig{Host: "127.0.0.1", InsecureLoopback: true, ResendEvery: time.Second, AckDelay: ackDelay}
	actors.TapFrames(rc, func(_ *actor.PID, fr *wrapperspb.BytesValue) { f.out <- fr.GetValue() }, nil)
	if alone {
		actors.SendAcksAlone(rc)
	}
	f.a = startNode(t, actors.Config{Registry: vat.NewRegistry(), Clock: f.clock, Remote: rc})
	me, err := f.a.LocalPeer(ctx)
	require.NoError(t, err)

	idb, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	f.b = kt.New(t)
	f.pb, err = transport.NewPump(transport.PumpConfig{Identity: idb, Kernel: f.b.K, InsecureLoopback: true, HoldAcks: true})
	require.NoError(t, err)
	f.toA = f.b.AddRemote(me.ID, me.Address)
	root := f.b.Launch("pong", "pong").Roots["pong"]
	ref, out, err := f.b.K.ExportToRemote(ctx, f.toA, root)
	require.NoError(t, err)
	f.b.Release(out)

	toB, err := f.a.AddRemote(ctx, string(idb.ID()), deadAddress(t))
	require.NoError(t, err)
	f.presence, err = f.a.ImportFromRemote(ctx, toB, ref)
	require.NoError(t, err)
	f.requireQuiet("after the set-up")
	return f
}

// ping sends ping to B's object from A's host; the channel has the
// call's error once B's answer settled it.
func (f *ackFixture) ping() <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := f.a.QueueMessage(f.ctx, f.presence, "ping")
		done <- err
	}()
	return done
}

// takeA waits for A's next frame (A's kernel actor sends it as soon as
// the unit that allows it is done: nothing in the test moves the clock
// for it) and applies it on B, which cranks until idle.
func (f *ackFixture) takeA() {
	f.t.Helper()
	select {
	case v := <-f.out:
		f.aFrames++
		f.b.Release(f.pb.Apply(f.ctx, wrapperspb.Bytes(v), ""))
		f.b.RunUntilQuiescent(20)
	case <-f.ctx.Done():
		f.t.Fatalf("no frame from A: %v", f.ctx.Err())
	}
}

// sendB hands A every frame B's pump sends now, and says how many.
func (f *ackFixture) sendB() int {
	var frames []*wrapperspb.BytesValue
	f.pb.Send(func(_ *actor.PID, v *wrapperspb.BytesValue) { frames = append(frames, v) })
	for _, v := range frames {
		f.a.System().Root.Send(f.a.PID(), v)
		f.bFrames++
	}
	return len(frames)
}

// requireQuiet checks that A sent nothing more: a host request, served
// after everything already in A's mailbox, is answered after any frame
// those messages sent reached the tap.
func (f *ackFixture) requireQuiet(when string) {
	f.t.Helper()
	_, err := f.a.Remotes(f.ctx)
	require.NoError(f.t, err)
	require.Empty(f.t, f.out, "A sent a frame %s", when)
}

// bWaits is how many of B's messages wait for A's ack.
func (f *ackFixture) bWaits() int { return f.b.K.Remotes()[0].Pending }

// bApplied is how many of A's messages B applied.
func (f *ackFixture) bApplied() uint64 { return f.b.K.Remotes()[0].Applied }

// roundTrip is one ping from A's host and B's answer.
func (f *ackFixture) roundTrip(i int) {
	f.t.Helper()
	done := f.ping()
	f.takeA()
	require.Equal(f.t, uint64(i), f.bApplied(), "B applied ping %d", i)
	require.Equal(f.t, 1, f.bWaits(), "only B's answer to ping %d waits: the ack of the one before came alone, or rode on the ping", i)
	require.Equal(f.t, 1, f.sendB(), "B's answer to ping %d, with its ack", i)
	require.NoError(f.t, <-done, "ping %d", i)
}

// audit runs both kernels' auditors.
func (f *ackFixture) audit(when string) {
	f.t.Helper()
	f.b.AuditNow(when)
	require.NoError(f.t, f.a.ReadStore(f.ctx, func(st *persistence.Store) error {
		problems, err := kernel.Audit(f.ctx, st)
		require.Empty(f.t, problems, "A's auditor %s", when)
		return err
	}))
}

// Held acks (RemoteConfig.AckDelay) in the actors runtime, with the
// kernel's clock in the test's hands. In a conversation the ack of each
// answer rides on the next ping, and nothing goes alone while the clock
// stands still: two frames a round trip. Every ping leaves with no clock
// move at all (messages are never held). The last answer's ack is held
// until AckDelay has passed, not a moment less, and then goes alone.
// With acks sent at once instead, each answer's ack goes alone at once:
// three frames a round trip, and no ack timer.
func TestRemoteHeldAcks(t *testing.T) {
	t.Run("held", func(t *testing.T) { heldAcks(t, false) })
	t.Run("alone", func(t *testing.T) { heldAcks(t, true) })
}

func heldAcks(t *testing.T, alone bool) {
	const trips = 5
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := newAckFixture(t, ctx, alone)
	for i := 1; i <= trips; i++ {
		f.roundTrip(i)
		if alone {
			f.takeA() // the answer's ack, alone, at once
			require.Equal(t, 0, f.bWaits(), "the ack alone trimmed B's outbox")
			require.Equal(t, uint64(i), f.bApplied(), "an ack alone carries no message")
			continue
		}
		f.requireQuiet("with an ack to hold and the clock standing still")
		require.Equal(t, 1, f.bWaits(), "B's answer %d waits for the held ack", i)
		require.Equal(t, 2, f.clock.pending(), "the resend timer and the ack timer")
	}
	if alone {
		require.Equal(t, 3*trips, f.aFrames+f.bFrames, "three frames a round trip")
		f.requireQuiet("after the conversation")
		require.Equal(t, 1, f.clock.pending(), "only the resend timer: no ack is held")
		f.audit("after the conversation")
		return
	}
	require.Equal(t, 2*trips, f.aFrames+f.bFrames, "two frames a round trip: each ack rode on the next ping")
	// The ack timer began at the first answer; the clock has not moved.
	f.clock.advance(ackDelay - time.Microsecond)
	f.requireQuiet("before AckDelay has passed")
	f.clock.advance(time.Microsecond)
	f.takeA()
	require.Equal(t, 0, f.bWaits(), "the held ack went alone at AckDelay and trimmed B's outbox")
	require.Equal(t, uint64(trips), f.bApplied(), "an ack alone carries no message")
	require.Equal(t, 1, f.clock.pending(), "the ack timer fired, and nothing is held")
	f.requireQuiet("after the held ack went")
	f.audit("after the conversation")
}

// A held ack is read again when it goes, so it covers what A applied
// while it waited: two answers arrive while the first one's ack is held,
// and the one frame that goes at AckDelay acks both. An ack that rode on
// a ping leaves nothing for the timer: it fires and sends nothing.
func TestRemoteHeldAckIsReadWhenItGoes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := newAckFixture(t, ctx, false)
	first, second := f.ping(), f.ping()
	f.takeA()
	f.takeA()
	require.Equal(t, uint64(2), f.bApplied())
	require.Equal(t, 2, f.sendB(), "B's two answers")
	require.NoError(t, <-first)
	require.NoError(t, <-second)
	f.requireQuiet("with two answers' acks held")
	require.Equal(t, 2, f.bWaits())
	f.clock.advance(ackDelay)
	f.takeA()
	require.Equal(t, 0, f.bWaits(), "one ack alone, read when it went, acked both answers")
	f.requireQuiet("after the ack")

	// The next answer's ack rides on a ping before its timer fires.
	f.roundTrip(3)
	done := f.ping()
	f.takeA()
	require.Equal(t, 1, f.bWaits(), "the ack of answer 3 rode on ping 4: only answer 4 waits")
	f.clock.advance(ackDelay)
	f.requireQuiet("at AckDelay, with the ack already gone")
	require.Equal(t, 1, f.sendB())
	require.NoError(t, <-done)
	f.audit("after the conversation")
}

// Stopping the kernel sends the acks it holds, after its last flush (no
// message follows to carry them, and the peer would keep its outbox until
// the next start), and releases its timers: with an ack held, both the
// resend timer and the ack timer are pending; after Stop, none is, and
// the clock moving on sends nothing more.
func TestRemoteStopReleasesAckTimer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := newAckFixture(t, ctx, false)
	f.roundTrip(1)
	f.requireQuiet("with the ack held")
	require.Equal(t, 2, f.clock.pending(), "the resend timer and the ack timer")
	require.Equal(t, 1, f.bWaits())
	require.NoError(t, f.a.Stop(ctx))
	require.Zero(t, f.clock.pending(), "Stop released both timers")
	f.takeA()
	require.Zero(t, f.bWaits(), "the held ack went at Stop")
	require.Equal(t, uint64(1), f.bApplied(), "an ack alone")
	f.clock.advance(ackDelay) // nothing left to fire
	require.Empty(t, f.out, "a stopped kernel sends nothing more")
}
