package transport

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/remote/identity"
	"github.com/ocapgo/kernel-actors/remote/ocapurl"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// sent is one frame a pump put on the wire, and where.
type sent struct {
	to string
	f  Frame
}

// collectFrames runs p.Send and returns what it sent.
func collectFrames(t *testing.T, p *Pump) []sent {
	t.Helper()
	var got []sent
	p.Send(func(to *actor.PID, v *wrapperspb.BytesValue) {
		require.Equal(t, LinkName, to.Id)
		f, err := decodeFrame(v)
		require.NoError(t, err)
		got = append(got, sent{to: to.Address, f: f})
	})
	return got
}

// revokedURL issues and revokes a URL for the issuer's bank.
func (is *issuer) revokedURL(t *testing.T) ocapurl.URL {
	t.Helper()
	root, ok := is.d.K.Store().SturdyRef(is.url.OID)
	require.True(t, ok)
	url := is.d.IssueURL(kernel.KRef(root))
	is.d.RevokeURL(url)
	u, err := ocapurl.Parse(url)
	require.NoError(t, err)
	return u
}

// A stranger's redeem of a revoked URL, of an oid never issued, and past
// the limit, is answered with one refusal frame each: to the redeem's
// reply address, with the stranger's key pinned there, carrying only
// the refusal (no seq, no ack), naming seq 1, the oid and the reason.
// The issuer's store is unchanged and it has no remote for the
// stranger. It is sent once: the next Send sends nothing, and each
// frame received makes one refusal, no more. A stranger's other frames
// get none.
func TestPumpAnswersARefusedRedeem(t *testing.T) {
	is := newIssuer(t, 1)
	never := strings.Repeat("7", 32)
	for _, tc := range []struct{ name, oid, addr string }{
		{"a revoked URL", is.revokedURL(t).OID, "127.0.0.1:7102"},
		{"an oid never issued", never, "127.0.0.1:7103"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			peer := stranger(t)
			before := is.d.StoreView()
			for range 2 { // the stranger's redeem and its resend
				require.Empty(t, is.p.Apply(context.Background(), redeemFrame(tc.oid, tc.addr), peer))
				got := collectFrames(t, is.p)
				require.Len(t, got, 1, "one refusal per frame received")
				require.Equal(t, tc.addr, got[0].to, "to the reply address")
				require.Equal(t, Frame{From: is.p.self, Refusal: wire.Refusal{Seq: 1, OID: tc.oid, Reason: wire.RefusedUnknownOID}.Encode()}, got[0].f)
				id, ok := is.p.pins.forAddr(tc.addr)
				require.True(t, ok)
				require.Equal(t, identity.PeerID(peer), id, "pinned to the key that sent the redeem")
				require.Empty(t, collectFrames(t, is.p), "never sent again")
			}
			require.Equal(t, before, is.d.StoreView(), "the issuer keeps nothing of the stranger")
			require.Empty(t, is.d.K.Remotes())
			is.d.AuditNow(tc.name)
		})
	}

	// The limit of 1: one stranger is introduced, the next refused.
	is.d.Release(is.p.Apply(context.Background(), redeemFrame(is.url.OID, "127.0.0.1:7104"), stranger(t)))
	is.d.RunUntilQuiescent(0)
	collectFrames(t, is.p) // the answer to the introduced one
	before := is.d.StoreView()
	require.Empty(t, is.p.Apply(context.Background(), redeemFrame(is.url.OID, "127.0.0.1:7105"), stranger(t)))
	got := collectFrames(t, is.p)
	require.Len(t, got, 1)
	require.Equal(t, "127.0.0.1:7105", got[0].to)
	r, err := wire.DecodeRefusal(got[0].f.Refusal)
	require.NoError(t, err)
	require.Equal(t, wire.Refusal{Seq: 1, OID: is.url.OID, Reason: wire.RefusedLimit}, r)
	require.Equal(t, before, is.d.StoreView())

	// Frames that are not a redeem passing every other rule get nothing.
	redeem := wire.Message{Kind: wire.KindRedeem, OID: never, Result: "rp+1", Reply: "127.0.0.1:7106"}.Encode()
	for name, fr := range map[string]*wrapperspb.BytesValue{
		"a redeem at seq 2":         encodeFrame(Frame{Seq: 2, Msg: redeem}),
		"a redeem with an ack":      encodeFrame(Frame{Seq: 1, Ack: 1, Msg: redeem}),
		"a redeem with no reply":    redeemFrame(never, ""),
		"this kernel's address":     redeemFrame(never, "127.0.0.1:7001"),
		"an introduced address":     redeemFrame(never, "127.0.0.1:7104"),
		"a deliver":                 encodeFrame(Frame{Seq: 1, Msg: `{"kind":"deliver","target":"ro-1","methargs":{"body":"#[\"x\",[]]"}}`}),
		"a refusal from a stranger": encodeFrame(Frame{Refusal: wire.Refusal{Seq: 1, OID: never, Reason: wire.RefusedLimit}.Encode()}),
	} {
		is.p.Apply(context.Background(), fr, stranger(t))
		require.Empty(t, collectFrames(t, is.p), name)
	}
	closed := newIssuer(t, -1)
	closed.p.Apply(context.Background(), redeemFrame(never, "127.0.0.1:7107"), stranger(t))
	require.Empty(t, collectFrames(t, closed.p), "a kernel that takes no introductions answers no stranger")
}

// The refusals' pins are bounded: at most maxRefusalPins addresses at
// once (a new one evicts the oldest, whose connection is closed), each
// aged out refusalRounds resend rounds after its last refusal (and
// closed); an address pinned for one stranger's key takes no refusal
// for another's; and a remote pinned later at a refusal's address takes
// it over, closing the connection only if the key differs.
func TestPumpRefusalPinsAreBounded(t *testing.T) {
	is := newIssuer(t, 0)
	var closed []string
	is.p.closeEndpoint = func(addr string) { closed = append(closed, addr) }
	never := strings.Repeat("7", 32)
	addr := func(i int) string { return fmt.Sprintf("127.0.0.1:%d", 7200+i) }
	keys := map[string]string{}
	for i := range maxRefusalPins + 1 {
		keys[addr(i)] = stranger(t)
		is.p.Apply(context.Background(), redeemFrame(never, addr(i)), keys[addr(i)])
		require.Len(t, collectFrames(t, is.p), 1)
	}
	require.Equal(t, []string{addr(0)}, closed, "the oldest is evicted and closed")
	_, ok := is.p.pins.forAddr(addr(0))
	require.False(t, ok)
	require.Len(t, is.p.Peers(), maxRefusalPins, "Release closes the pinned ones")

	// Another key at a pinned address: no refusal, the pin unchanged.
	is.p.Apply(context.Background(), redeemFrame(never, addr(1)), stranger(t))
	require.Empty(t, collectFrames(t, is.p))
	id, _ := is.p.pins.forAddr(addr(1))
	require.Equal(t, identity.PeerID(keys[addr(1)]), id)

	// A remote at addr(2) with the refused key keeps the connection; at
	// addr(3) with another key, the connection is closed.
	closed = nil
	is.d.AddRemote(keys[addr(2)], addr(2))
	is.d.AddRemote(stranger(t), addr(3))
	is.p.RefreshPins()
	require.Equal(t, []string{addr(3)}, closed)

	// Aging: addr(4) is used again after ten rounds; the rest go after
	// refusalRounds, it refusalRounds later.
	closed = nil
	for range 10 {
		is.p.Resend()
	}
	is.p.Apply(context.Background(), redeemFrame(never, addr(4)), keys[addr(4)])
	require.Len(t, collectFrames(t, is.p), 1)
	for range refusalRounds - 9 {
		is.p.Resend()
	}
	require.Len(t, closed, maxRefusalPins+1-4, "all but addr(4) aged out (0 evicted, 2 and 3 taken over)")
	require.NotContains(t, closed, addr(4))
	for range 10 {
		is.p.Resend()
	}
	require.Contains(t, closed, addr(4))
	require.Len(t, is.p.Peers(), 2, "only the remotes are left")
}

// redeemer is a kernel that redeems URLs of a peer it never met, and its
// pump.
type redeemer struct {
	d         *kt.Driver
	p         *Pump
	me        *identity.Identity
	forgotten []kernel.RemoteID
}

func newRedeemer(t *testing.T) *redeemer {
	t.Helper()
	me, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	r := &redeemer{d: kt.New(t), me: me}
	r.d.SetLocalPeer(string(me.ID()), "127.0.0.1:7002")
	r.p, err = NewPump(PumpConfig{Identity: me, Kernel: r.d.K, OnForget: func(id kernel.RemoteID) { r.forgotten = append(r.forgotten, id) }})
	require.NoError(t, err)
	return r
}

// carry moves every frame from's pump sends to the pump of to, as the
// network would, authenticated as from's key, and reports how many.
func carry(t *testing.T, from *Pump, to *Pump, toAddr string, toD *kt.Driver) int {
	t.Helper()
	frames := collectFrames(t, from)
	for _, s := range frames {
		require.Equal(t, toAddr, s.to)
		toD.Release(to.Apply(context.Background(), encodeFrame(s.f), from.self))
		toD.AuditNow("frame applied")
		toD.RunUntilQuiescent(0)
	}
	return len(frames)
}

// Two pumps, frames carried between them as the network would: a
// stranger redeems a revoked URL with a deposit pipelined; the issuer's
// refusal reaches it, the redemption and the deposit reject with
// OCAP_URL_UNKNOWN, the remote is gone (and the pump forgot it: no pin,
// OnForget called), and the issuer has no remote. Then a live URL of the
// same issuer redeems on a fresh link and its deposit is answered. A
// refusal over another key, or once the link is taken up, changes
// nothing.
func TestPumpRefusalEndToEnd(t *testing.T) {
	is := newIssuer(t, 0)
	re := newRedeemer(t)
	issuerAddr := "127.0.0.1:7001"
	revoked := is.revokedURL(t)
	revoked.PeerID, revoked.Address = is.p.self, issuerAddr
	kp := re.d.RedeemURL(revoked.String())
	kpDep := re.d.Call(kp, "deposit", int64(2))
	re.d.RunUntilQuiescent(0)
	r := re.d.K.Remotes()[0].ID

	// A refusal from another key (a remote of ours that is not the
	// issuer) changes nothing.
	other := stranger(t)
	re.d.AddRemote(other, "127.0.0.1:7009")
	before := re.d.StoreView()
	re.p.Apply(context.Background(), encodeFrame(Frame{Refusal: wire.Refusal{Seq: 1, OID: revoked.OID, Reason: wire.RefusedUnknownOID}.Encode()}), other)
	require.Equal(t, before, re.d.StoreView(), "a refusal over another key")

	issuerBefore := is.d.StoreView()
	require.Equal(t, 2, carry(t, re.p, is.p, issuerAddr, is.d), "the redeem and the deposit")
	require.Equal(t, issuerBefore, is.d.StoreView(), "the issuer kept nothing")
	require.Equal(t, 1, carry(t, is.p, re.p, "127.0.0.1:7002", re.d), "a refusal of the redeem; the deposit, message 2, is dropped")
	re.d.AuditNow("refused")
	for _, p := range []kernel.KRef{kp, kpDep} {
		require.True(t, kernel.Carries(re.d.ResultErr(p), kernel.ErrOcapURLUnknown), "%s", p)
	}
	_, err := re.d.K.Remote(r)
	require.ErrorIs(t, err, kernel.ErrUnknownRemote, "the remote is gone")
	require.Equal(t, []kernel.RemoteID{r}, re.forgotten)
	_, pinned := re.p.pins.forAddr(issuerAddr)
	require.False(t, pinned, "the issuer's address is no longer pinned")
	require.Zero(t, carry(t, re.p, is.p, issuerAddr, is.d), "nothing waits for the issuer")

	// A fresh link.
	live := is.url
	live.PeerID, live.Address = is.p.self, issuerAddr
	kp2 := re.d.RedeemURL(live.String())
	re.p.RefreshPins()
	r2 := re.d.K.Remotes()[1].ID
	require.NotEqual(t, r, r2)
	for range 3 {
		carry(t, re.p, is.p, issuerAddr, is.d)
		carry(t, is.p, re.p, "127.0.0.1:7002", re.d)
	}
	out, ok := re.d.Result(kp2)
	require.True(t, ok, "the live URL redeemed")
	require.False(t, out.Rejected)
	require.Len(t, is.d.K.Remotes(), 1, "the issuer introduced the redeemer once")

	// A late refusal of the first redeem of the new link: ignored.
	before = re.d.StoreView()
	re.p.Apply(context.Background(), encodeFrame(Frame{Refusal: wire.Refusal{Seq: 1, OID: live.OID, Reason: wire.RefusedUnknownOID}.Encode()}), is.p.self)
	require.Equal(t, before, re.d.StoreView(), "the link is taken up")
	require.Len(t, re.forgotten, 1)
}
