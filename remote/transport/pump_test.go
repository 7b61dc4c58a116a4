package transport

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/remote/identity"
)

// pumpFixture is a kernel with one remote whose object the host holds,
// and the pump of that kernel (no network: Send's frames are collected).
type pumpFixture struct {
	d        *kt.Driver
	p        *Pump
	r        kernel.RemoteID
	peer     *identity.Identity
	presence kernel.KRef
}

func newPumpFixture(t *testing.T, insecure bool) *pumpFixture {
	me, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	peer, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	d := kt.New(t)
	p, err := NewPump(PumpConfig{Identity: me, Kernel: d.K, InsecureLoopback: insecure})
	require.NoError(t, err)
	r := d.AddRemote(string(peer.ID()), "127.0.0.1:9")
	presence, out, err := d.K.ImportFromRemote(context.Background(), r, "ro+1")
	require.NoError(t, err)
	d.Release(out)
	return &pumpFixture{d: d, p: p, r: r, peer: peer, presence: presence}
}

// send queues a host message to the peer's object and routes it to the
// outbox.
func (f *pumpFixture) send() {
	f.d.Send(f.presence, "hello")
	f.d.RunUntilQuiescent(10)
}

// collect runs Send and returns the frames it put on the wire.
func (f *pumpFixture) collect(t *testing.T) []Frame {
	var got []Frame
	f.p.Send(func(to *actor.PID, v *wrapperspb.BytesValue) {
		require.Equal(t, "127.0.0.1:9", to.Address)
		require.Equal(t, LinkName, to.Id)
		fr, err := decodeFrame(v)
		require.NoError(t, err)
		got = append(got, fr)
	})
	return got
}

// Send sends each message once a round, Resend starts a round again, and
// an ack trims what goes.
func TestPumpSendsOncePerRound(t *testing.T) {
	f := newPumpFixture(t, false)
	f.send()
	f.send()
	got := f.collect(t)
	require.Len(t, got, 2)
	require.Equal(t, []uint64{1, 2}, []uint64{got[0].Seq, got[1].Seq})
	require.Empty(t, f.collect(t), "nothing new this round")
	f.p.Resend()
	require.Len(t, f.collect(t), 2, "a new round sends everything unacknowledged")
	_, err := f.d.K.AckRemote(context.Background(), f.r, 1)
	require.NoError(t, err)
	f.p.Resend()
	got = f.collect(t)
	require.Len(t, got, 1)
	require.Equal(t, uint64(2), got[0].Seq, "the acked message is not sent again")
}

// Over TLS a frame is taken from the authenticated peer only; a frame
// from a key the kernel does not know, or claiming another sender, is
// dropped and changes nothing.
func TestPumpApplyTrustsTheHandshake(t *testing.T) {
	f := newPumpFixture(t, false)
	f.send()
	ack := encodeFrame(Frame{From: string(f.peer.ID()), Ack: 1})
	stranger, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	ctx := context.Background()
	for _, who := range []string{"", string(stranger.ID())} {
		f.p.Apply(ctx, ack, who)
		info, _ := f.d.K.Remote(f.r)
		require.Equal(t, 1, info.Pending, "an ack authenticated as %q is dropped", who)
	}
	lie := encodeFrame(Frame{From: string(stranger.ID()), Ack: 1})
	f.p.Apply(ctx, lie, string(f.peer.ID()))
	info, _ := f.d.K.Remote(f.r)
	require.Equal(t, 1, info.Pending, "a frame that claims another sender is dropped")
	f.p.Apply(ctx, ack, string(f.peer.ID()))
	info, _ = f.d.K.Remote(f.r)
	require.Zero(t, info.Pending, "the peer's own ack trims the outbox")
	f.p.Apply(ctx, wrapperspb.Bytes([]byte("{not json")), string(f.peer.ID()))
	f.d.AuditNow("after a frame that does not decode")
}

// pumpPair is two kernels, each with its pump, joined in memory: a frame
// one pump sends is applied by the other's Apply when the test moves it
// (exchange), and counted.
type pumpPair struct {
	a, b       *kt.Driver
	pa, pb     *Pump
	presence   kernel.KRef // a's presence of b's root
	aToB, bToA int         // frames moved each way
}

func newPumpPair(t *testing.T, holdAcks bool) *pumpPair {
	ida, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	idb, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	pp := &pumpPair{a: kt.New(t), b: kt.New(t)}
	pp.pa, err = NewPump(PumpConfig{Identity: ida, Kernel: pp.a.K, InsecureLoopback: true, HoldAcks: holdAcks})
	require.NoError(t, err)
	pp.pb, err = NewPump(PumpConfig{Identity: idb, Kernel: pp.b.K, InsecureLoopback: true, HoldAcks: holdAcks})
	require.NoError(t, err)
	aToB := pp.a.AddRemote(string(idb.ID()), "b.test:1")
	bToA := pp.b.AddRemote(string(ida.ID()), "a.test:1")
	root := pp.b.Launch("pong", "pong").Roots["pong"]
	ref, out, err := pp.b.K.ExportToRemote(context.Background(), bToA, root)
	require.NoError(t, err)
	pp.b.Release(out)
	pp.presence, out, err = pp.a.K.ImportFromRemote(context.Background(), aToB, ref)
	require.NoError(t, err)
	pp.a.Release(out)
	return pp
}

// exchange moves frames both ways, each side cranking after what it
// applied, until neither pump sends anything; acksToo ends held acks'
// wait first (SendAcks), as the owner's timer does.
func (pp *pumpPair) exchange(t *testing.T, acksToo bool) {
	ctx := context.Background()
	for {
		moved := false
		for _, side := range []struct {
			from, to *kt.Driver
			pf, pt   *Pump
			addr     string
			count    *int
		}{{pp.a, pp.b, pp.pa, pp.pb, "b.test:1", &pp.aToB}, {pp.b, pp.a, pp.pb, pp.pa, "a.test:1", &pp.bToA}} {
			side.from.RunUntilQuiescent(20)
			var frames []*wrapperspb.BytesValue
			collect := func(to *actor.PID, v *wrapperspb.BytesValue) {
				require.Equal(t, side.addr, to.Address)
				frames = append(frames, v)
			}
			if acksToo {
				side.pf.SendAcks(collect)
			} else {
				side.pf.Send(collect)
			}
			for _, v := range frames {
				side.to.Release(side.pt.Apply(ctx, v, ""))
				*side.count++
				moved = true
			}
		}
		if !moved {
			return
		}
	}
}

// Holding acks makes a conversation two frames a round trip: the ack of
// an answer rides on the next request instead of going alone. The held
// ack still goes when SendAcks ends its wait, and nothing is lost or
// doubled either way: every answer arrives once, and the outboxes drain.
func TestPumpHeldAcksRideOnTheNextMessage(t *testing.T) {
	const trips = 10
	for _, hold := range []bool{false, true} {
		pp := newPumpPair(t, hold)
		for i := 0; i < trips; i++ {
			kp := pp.a.Send(pp.presence, "ping")
			pp.exchange(t, false)
			_, ok := pp.a.Result(kp)
			require.True(t, ok, "hold=%v: round trip %d settled", hold, i)
		}
		if !hold {
			// Each answer's ack goes alone: three frames a round trip.
			require.Equal(t, 2*trips, pp.aToB, "the sends and the acks of the answers")
			require.Equal(t, trips, pp.bToA)
			require.False(t, pp.pa.HoldsAcks())
			continue
		}
		require.Equal(t, trips, pp.aToB, "each ack rode on the next send: one frame a send")
		require.Equal(t, trips, pp.bToA)
		require.True(t, pp.pa.HoldsAcks(), "the last answer's ack waits for a message")
		require.Equal(t, 1, pp.b.K.Remotes()[0].Pending, "b's last answer waits for its ack")
		pp.exchange(t, true)
		require.Equal(t, trips+1, pp.aToB, "SendAcks sent the held ack alone")
		require.False(t, pp.pa.HoldsAcks())
		require.Zero(t, pp.b.K.Remotes()[0].Pending, "the held ack trimmed b's outbox")
		require.Zero(t, pp.a.K.Remotes()[0].Pending)
		pp.a.AuditNow("after the conversation")
		pp.b.AuditNow("after the conversation")
	}
}
