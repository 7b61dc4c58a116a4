package transport

import (
	"context"
	"crypto/rand"
	"net"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/remote/identity"
	"github.com/ocapgo/kernel-actors/remote/ocapurl"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// issuer is a kernel that has issued a URL for its bank and knows no one,
// and its pump (no network: frames are handed to Apply, Send's are
// collected).
type issuer struct {
	d   *kt.Driver
	p   *Pump
	url ocapurl.URL
}

func newIssuer(t *testing.T, maxIntroduced int) *issuer {
	t.Helper()
	me, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	d := kt.New(t)
	d.SetLocalPeer(string(me.ID()), "127.0.0.1:7001")
	p, err := NewPump(PumpConfig{Identity: me, Kernel: d.K, MaxIntroduced: maxIntroduced})
	require.NoError(t, err)
	root := d.Launch("bank", "bank").Roots["bank"]
	u, err := ocapurl.Parse(d.IssueURL(root))
	require.NoError(t, err)
	return &issuer{d: d, p: p, url: u}
}

// redeemFrame is the frame a redeemer listening at reply sends first.
func redeemFrame(oid, reply string) *wrapperspb.BytesValue {
	m := wire.Message{Kind: wire.KindRedeem, OID: oid, Result: "rp+1", Reply: reply}
	return encodeFrame(Frame{Seq: 1, Msg: m.Encode()})
}

func stranger(t *testing.T) string {
	t.Helper()
	id, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	return string(id.ID())
}

// A redeem of a live URL from a key the kernel does not know introduces
// the key: a remote pinned to it at the redeem's reply address, the
// redeem applied, and the answer sent there with the key pinned.
func TestPumpIntroducesARedeemer(t *testing.T) {
	is := newIssuer(t, 0)
	peer := stranger(t)
	out := is.p.Apply(context.Background(), redeemFrame(is.url.OID, "127.0.0.1:7002"), peer)
	is.d.Release(out)
	is.d.AuditNow("introduced")
	r, ok := is.d.K.RemoteByPeer(peer)
	require.True(t, ok, "the stranger is a remote now")
	info, _ := is.d.K.Remote(r)
	require.Equal(t, "127.0.0.1:7002", info.Address)
	require.Equal(t, uint64(1), info.Applied)
	id, ok := is.p.pins.forAddr("127.0.0.1:7002")
	require.True(t, ok)
	require.Equal(t, identity.PeerID(peer), id, "pinned to the key that sent the redeem")
	is.d.RunUntilQuiescent(0)
	var frames []Frame
	is.p.Send(func(to *actor.PID, v *wrapperspb.BytesValue) {
		require.Equal(t, "127.0.0.1:7002", to.Address)
		f, err := decodeFrame(v)
		require.NoError(t, err)
		frames = append(frames, f)
	})
	require.Len(t, frames, 1, "the answer")
	m, err := wire.Decode(frames[0].Msg)
	require.NoError(t, err)
	require.Equal(t, wire.KindNotify, m.Kind)
	require.Equal(t, "rp-1", m.Resolutions[0].Promise, "the redeemer's result, in its frame")
	require.False(t, m.Resolutions[0].Rejected)
	require.Equal(t, 1, is.d.K.Introduced())
}

// A frame from a key the kernel does not know that is not an introducing
// redeem is dropped and changes nothing: an ack alone, a deliver, a
// redeem at seq 2 or carrying an ack, one with no reply address or a
// known peer's address, garbage. (A redeem of an unknown oid changes
// nothing either, but is answered: refusal_test.go.) Over TLS the
// sender is the handshake's, so a stranger's frame that claims a
// remote's id is dropped as well.
func TestPumpDropsAStrangersOtherFrames(t *testing.T) {
	is := newIssuer(t, 0)
	known := stranger(t)
	is.d.AddRemote(known, "127.0.0.1:7009")
	is.p.RefreshPins()
	oid := is.url.OID
	redeem := wire.Message{Kind: wire.KindRedeem, OID: oid, Result: "rp+1", Reply: "127.0.0.1:7002"}.Encode()
	frames := map[string]*wrapperspb.BytesValue{
		"an ack alone":              encodeFrame(Frame{Ack: 1}),
		"a deliver":                 encodeFrame(Frame{Seq: 1, Msg: `{"kind":"deliver","target":"ro-1","methargs":{"body":"#[\"x\",[]]"}}`}),
		"a notify":                  encodeFrame(Frame{Seq: 1, Msg: `{"kind":"notify","resolutions":[{"promise":"rp+1","data":{"body":"#1"}}]}`}),
		"a redeem at seq 2":         encodeFrame(Frame{Seq: 2, Msg: redeem}),
		"a redeem with an ack":      encodeFrame(Frame{Seq: 1, Ack: 1, Msg: redeem}),
		"a redeem with no reply":    redeemFrame(oid, ""),
		"a known peer's address":    redeemFrame(oid, "127.0.0.1:7009"),
		"this kernel's address":     redeemFrame(oid, "127.0.0.1:7001"),
		"a reply that is not one":   redeemFrame(oid, "127.0.0.1:0"),
		"a claim of a known peer":   encodeFrame(Frame{From: known, Seq: 1, Msg: redeem}),
		"a message that is no JSON": encodeFrame(Frame{Seq: 1, Msg: "{"}),
		"a frame that is no JSON":   wrapperspb.Bytes([]byte("{")),
	}
	for name, fr := range frames {
		t.Run(name, func(t *testing.T) {
			before := is.d.StoreView()
			out := is.p.Apply(context.Background(), fr, stranger(t))
			require.Empty(t, out)
			require.Equal(t, before, is.d.StoreView(), "nothing changed")
			require.Len(t, is.d.K.Remotes(), 1, "no remote was added")
			require.Zero(t, is.d.K.Introduced())
			_, pinned := is.p.pins.forAddr("127.0.0.1:7002")
			require.False(t, pinned)
			is.d.AuditNow(name)
		})
	}
}

// The limit: under MaxIntroduced 2, two strangers are introduced and the
// third is dropped; with a negative limit none is, and the TLS server
// accepts only the remotes' keys, where by default it accepts any key
// the client proves it holds.
func TestPumpIntroductionLimit(t *testing.T) {
	is := newIssuer(t, 2)
	for i, addr := range []string{"127.0.0.1:7002", "127.0.0.1:7003", "127.0.0.1:7004"} {
		peer := stranger(t)
		is.d.Release(is.p.Apply(context.Background(), redeemFrame(is.url.OID, addr), peer))
		is.d.AuditNow(addr)
		_, ok := is.d.K.RemoteByPeer(peer)
		require.Equal(t, i < 2, ok, "stranger %d", i)
	}
	require.Equal(t, 2, is.d.K.Introduced())
	require.NoError(t, is.p.pins.accept(identity.PeerID(stranger(t))), "the server still accepts any key: frames are refused, not handshakes")

	closed := newIssuer(t, -1)
	peer := stranger(t)
	closed.d.Release(closed.p.Apply(context.Background(), redeemFrame(closed.url.OID, "127.0.0.1:7002"), peer))
	require.Empty(t, closed.d.K.Remotes(), "no introductions")
	require.ErrorIs(t, closed.p.pins.accept(identity.PeerID(peer)), identity.ErrPeerRefused, "only the remotes' keys")
}

// A remote a crank adds (a vat redeeming a URL of a kernel this one never
// met, through the kernel's redemption service) is pinned by the next
// Send, before its redeem is dialled: without it the dial finds no pin
// and the redemption waits for ever.
func TestPumpPinsARemoteACrankAdded(t *testing.T) {
	is := newIssuer(t, 0)
	other, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	url := ocapurl.URL{OID: is.url.OID, PeerID: string(other.ID()), Address: "127.0.0.1:7005"}.String()
	// As the service does inside a crank: the kernel adds the remote with
	// no host request, so nothing calls RefreshPins.
	kp, out, err := is.d.K.RedeemURL(is.d.Ctx, url)
	require.NoError(t, err)
	is.d.Release(out)
	_, pinned := is.p.pins.forAddr("127.0.0.1:7005")
	require.False(t, pinned, "not yet")
	sent := 0
	is.p.Send(func(to *actor.PID, v *wrapperspb.BytesValue) {
		require.Equal(t, "127.0.0.1:7005", to.Address)
		id, ok := is.p.pins.forAddr(to.Address)
		require.True(t, ok, "pinned before the dial")
		require.Equal(t, other.ID(), id)
		sent++
	})
	require.Equal(t, 1, sent, "the redeem")
	_, settled := is.d.Result(kp)
	require.False(t, settled, "it waits for the issuer's answer")
}

// A server taking introductions completes the TLS handshake with a
// client whose key it has never seen (the client proves the key; the
// id is what the stream is stamped with), and one that takes none
// refuses it.
func TestServerAcceptsAnyProvenKey(t *testing.T) {
	server, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	client, err := identity.Generate(rand.Reader)
	require.NoError(t, err)
	for _, open := range []bool{true, false} {
		p := newPins()
		p.open = open
		srvCfg, err := server.ServerTLS(p.accept)
		require.NoError(t, err)
		cliCfg, err := client.ClientTLS(identity.Pin(server.ID()))
		require.NoError(t, err)
		c1, c2 := net.Pipe()
		done := make(chan error, 1)
		go func() {
			s := tlsServer(c2, srvCfg)
			err := s.Handshake()
			if err == nil {
				var id identity.PeerID
				id, err = identity.PeerOf(s.ConnectionState())
				if err == nil && id != client.ID() {
					err = errWrongPeer
				}
			}
			c2.Close()
			done <- err
		}()
		c := tlsClient(c1, cliCfg)
		c.Handshake()
		c1.Close()
		err = <-done
		if open {
			require.NoError(t, err, "any proven key")
		} else {
			require.ErrorIs(t, err, identity.ErrPeerRefused)
		}
	}
}
