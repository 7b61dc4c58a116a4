package kernel_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/ocapurl"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// urlLink is two kernels that know each other, each with its local peer
// set, and a bank in B: the usual stage of the URL tests (B issues, A
// redeems).
func urlLink(t *testing.T) (*kt.Link, *kt.FakeVat, kernel.KRef) {
	a, b := kt.New(t), kt.New(t)
	l := kt.Connect(a, b)
	l.SetLocalPeers()
	v, root := bank(b)
	return l, v, root
}

// presenceOf reads the object a fulfilled host promise names.
func presenceOf(t *testing.T, d *kt.Driver, kp kernel.KRef) kernel.KRef {
	t.Helper()
	slot, isPromise, ok := marshal.SingleRef(d.ResultValue(kp))
	require.True(t, ok && !isPromise, "%s is fulfilled to one object", kp)
	return kernel.KRef(slot)
}

// refCounts reads an object's stored counts.
func refCounts(t *testing.T, st *persistence.Store, koid kernel.KRef) (int64, int64) {
	t.Helper()
	o, ok := st.Object(string(koid))
	require.True(t, ok, "object %s exists", koid)
	return o.Reachable, o.Recognizable
}

// noRefs checks that an error's text names no kref, remote ref, remote id
// or oid (invariant 7).
func noRefs(t *testing.T, text, oid string) {
	t.Helper()
	require.NotRegexp(t, `k[op][0-9]|r[op][+-]|\br[0-9]`, text, "no kref, remote ref or remote id in the text")
	if oid != "" {
		require.NotContains(t, text, oid, "no oid in the text")
	}
}

// The round trip: B issues a URL for its bank, whose entry keeps the bank
// alive (one more reachable reference); A redeems it, the redeem message
// leaves in A's outbox from the redeeming unit, B answers it in the unit
// that applies it, and A's promise settles to a presence of the bank. A
// send pipelined on the promise before the answer came goes to B, and
// later sends to the presence too. The kref never crosses the link.
func TestURLIssueAndRedeem(t *testing.T) {
	l, _, root := urlLink(t)
	a, b := l.A, l.B
	reach, recog := refCounts(t, b.Store, root)
	url := b.IssueURL(root)
	u, err := ocapurl.Parse(url)
	require.NoError(t, err)
	require.Equal(t, kt.PeerID("B"), u.PeerID, "the URL names the issuer")
	require.Equal(t, "b.test:1", u.Address)
	kref, ok := b.Store.SturdyRef(u.OID)
	require.True(t, ok)
	require.Equal(t, string(root), kref)
	r2, c2 := refCounts(t, b.Store, root)
	require.Equal(t, [2]int64{reach + 1, recog + 1}, [2]int64{r2, c2}, "the entry is a reachable reference")
	require.NotEqual(t, url, b.IssueURL(root), "each issue is a URL of its own")

	kp := a.RedeemURL(url)
	require.Equal(t, 1, outboxLen(t, a, l.AtoB), "the redeem message left in the redeeming unit")
	msg, _ := a.K.RemoteMessage(l.AtoB, 1)
	m, err := wire.Decode(msg)
	require.NoError(t, err)
	require.Equal(t, wire.KindRedeem, m.Kind)
	require.Equal(t, u.OID, m.OID)
	require.NotContains(t, msg, "ko", "no kref on the wire")
	p, _ := a.Store.Promise(string(kp))
	require.Equal(t, string(l.AtoB), p.Decider, "the issuer decides the redemption")
	_, seen := a.Result(kp)
	require.False(t, seen)

	kpDep := a.Call(kp, "deposit", int64(5)) // pipelined: to B, before the answer
	res := a.Crank()
	require.Equal(t, "remote", res.Routed, "a send to the redemption goes to the issuer")
	l.Settle(0)
	presence := presenceOf(t, a, kp)
	o, ok := a.Store.Object(string(presence))
	require.True(t, ok)
	require.Equal(t, string(l.AtoB), o.Owner, "a presence of B's object")
	require.Equal(t, int64(5), a.Value(kpDep), "the pipelined send reached the bank")
	kp7 := a.Call(presence, "deposit", int64(7))
	l.Settle(0)
	require.Equal(t, int64(12), a.Value(kp7))
	require.Equal(t, map[string]int{"a>b": 3, "b>a": 3}, l.Applied, "the redeem and two deposits: one message each, each way")
}

// A URL that was revoked, or never issued, is rejected with
// OCAP_URL_UNKNOWN, the issuer's word (so Carries, not errors.Is, in the
// redeemer), whose text names no oid and no ref; a send pipelined on the
// rejected redemption is rejected the same way. Revocation drops the
// entry's reference, and revoking again is ErrOcapURLUnknown.
func TestURLRedeemRevokedOrUnknown(t *testing.T) {
	l, _, root := urlLink(t)
	a, b := l.A, l.B
	reach, recog := refCounts(t, b.Store, root)
	url := b.IssueURL(root)
	b.RevokeURL(url)
	r2, c2 := refCounts(t, b.Store, root)
	require.Equal(t, [2]int64{reach, recog}, [2]int64{r2, c2}, "revocation gave the reference back")
	require.Empty(t, b.Store.SturdyRefOIDs())
	_, err := b.K.RevokeURL(b.Ctx, url)
	require.ErrorIs(t, err, kernel.ErrOcapURLUnknown, "revoked already")

	never, err := ocapurl.Format(strings.Repeat("5a", 16), kt.PeerID("B"), "b.test:1")
	require.NoError(t, err)
	for name, u := range map[string]string{"revoked": url, "never issued": never} {
		t.Run(name, func(t *testing.T) {
			kp := a.RedeemURL(u)
			kpDep := a.Call(kp, "deposit", int64(1))
			l.Settle(0)
			for _, p := range []kernel.KRef{kp, kpDep} {
				err := a.ResultErr(p)
				require.True(t, kernel.Carries(err, kernel.ErrOcapURLUnknown), "%v", err)
				require.Contains(t, err.Error(), "[KERNEL:OCAP_URL_UNKNOWN]")
				parsed, _ := ocapurl.Parse(u)
				noRefs(t, err.Error(), parsed.OID)
			}
		})
	}
}

// Redeeming this kernel's own URL gives the local object itself, at once,
// with no remote and no message; its own unknown URL is rejected at once,
// and then the word is this kernel's (errors.Is).
func TestURLRedeemOwn(t *testing.T) {
	b := kt.New(t)
	b.SetLocalPeer(kt.PeerID("B"), "b.test:1")
	_, root := bank(b)
	url := b.IssueURL(root)
	kp := b.RedeemURL(url)
	require.Equal(t, root, presenceOf(t, b, kp), "the local object, not a presence")
	require.Empty(t, b.K.Remotes(), "no remote for itself")
	kp3 := b.Call(presenceOf(t, b, kp), "deposit", int64(3))
	b.RunUntilQuiescent(0)
	require.Equal(t, int64(3), b.Value(kp3))

	b.RevokeURL(url)
	kp = b.RedeemURL(url)
	require.ErrorIs(t, b.ResultErr(kp), kernel.ErrOcapURLUnknown)
}

// Bad requests are refused before any unit, changing nothing, each with
// an error that names what is wrong.
func TestURLRefusesBadRequests(t *testing.T) {
	ctx := context.Background()
	b := kt.New(t)
	_, root := bank(b)
	_, _, err := b.K.IssueURL(ctx, root)
	require.ErrorIs(t, err, kernel.ErrNoLocalPeer)
	_, _, err = b.K.RedeemURL(ctx, "ocap:"+strings.Repeat("0", 32)+"@"+kt.PeerID("A")+"/a:1")
	require.ErrorIs(t, err, kernel.ErrNoLocalPeer)
	_, err = b.K.SetLocalPeer(ctx, kt.PeerID("B"), "no port")
	require.ErrorIs(t, err, kernel.ErrBadConfig)
	_, err = b.K.SetLocalPeer(ctx, "B", "b.test:1")
	require.ErrorIs(t, err, kernel.ErrBadConfig)
	out, err := b.K.SetLocalPeer(ctx, kt.PeerID("B"), "b.test:1")
	require.NoError(t, err)
	b.Release(out)
	b.AuditNow("set local peer")
	_, _, err = b.K.IssueURL(ctx, root)
	require.ErrorIs(t, err, kernel.ErrNoURLSecret)
	_, err = b.K.SetURLSecret(ctx, []byte("short"))
	require.ErrorIs(t, err, kernel.ErrBadConfig)
	out, err = b.K.SetURLSecret(ctx, kt.Secret("B"))
	require.NoError(t, err)
	b.Release(out)
	out, err = b.K.SetURLSecret(ctx, kt.Secret("other"))
	require.NoError(t, err)
	require.Empty(t, out)

	before := kernel.DescribeState(b.Store)
	crank := b.Store.PeekID("next_crank")
	_, err = b.K.SetLocalPeer(ctx, kt.PeerID("C"), "b.test:1")
	require.ErrorIs(t, err, kernel.ErrBadConfig, "a kernel's peer id does not change")
	_, _, err = b.K.AddRemote(ctx, kt.PeerID("B"), "b.test:1")
	require.ErrorIs(t, err, kernel.ErrBadConfig, "itself is no remote")
	_, _, err = b.K.IssueURL(ctx, "kp1")
	require.ErrorIs(t, err, kernel.ErrBadRef, "a promise has no URL")
	_, _, err = b.K.IssueURL(ctx, "ko999")
	require.ErrorIs(t, err, kernel.ErrUnknownRef)
	for _, bad := range []string{"", "ocap:", "http://b.test/", "ocap:" + strings.Repeat("0", 31) + "@" + kt.PeerID("B") + "/b:1",
		"ocap:" + strings.Repeat("0", 32) + "@" + kt.PeerID("B") + "/b:0"} {
		_, _, err = b.K.RedeemURL(ctx, bad)
		require.ErrorIs(t, err, kernel.ErrBadURL, "%q", bad)
		require.ErrorIs(t, err, ocapurl.ErrMalformed, "%q", bad)
		_, err = b.K.RevokeURL(ctx, bad)
		require.ErrorIs(t, err, kernel.ErrBadURL, "%q", bad)
	}
	other, _ := ocapurl.Format(strings.Repeat("0", 32), kt.PeerID("A"), "a.test:1")
	_, err = b.K.RevokeURL(ctx, other)
	require.ErrorIs(t, err, kernel.ErrBadURL, "another kernel's URL")
	require.Equal(t, before, kernel.DescribeState(b.Store), "nothing changed")
	require.Equal(t, crank, b.Store.PeekID("next_crank"))
	require.Empty(t, b.Store.SturdyRefOIDs())
}

// The secret given once is the one the kernel keeps: the oids it issues
// are OID(secret, 1), OID(secret, 2), ..., whatever secret is offered
// later, and they go on across a restart.
func TestURLOIDsFromTheKeptSecret(t *testing.T) {
	b := kt.NewWithOptions(t, t.TempDir()+"/b.db", persistence.Options{})
	b.SetLocalPeer(kt.PeerID("B"), "b.test:1")
	_, root := bank(b)
	oidOf := func(url string) string {
		u, err := ocapurl.Parse(url)
		require.NoError(t, err)
		return u.OID
	}
	require.Equal(t, ocapurl.OID(kt.Secret(kt.PeerID("B")), 1), oidOf(b.IssueURL(root)))
	b.RestartKernel(false)
	out, err := b.K.SetURLSecret(b.Ctx, kt.Secret("another"))
	require.NoError(t, err)
	b.Release(out)
	require.Equal(t, ocapurl.OID(kt.Secret(kt.PeerID("B")), 2), oidOf(b.IssueURL(root)), "the kept secret, the next counter")
}

// A peer's redeem message that breaks the protocol (a result of the wrong
// sign or kind, a result already allocated, a malformed oid) is refused
// as the other kinds are: nothing applied, nothing changed.
func TestURLRedeemProtocolViolations(t *testing.T) {
	l, _, root := urlLink(t)
	b := l.B
	url := b.IssueURL(root)
	u, _ := ocapurl.Parse(url)
	ctx := context.Background()
	// A first, good message allocates rp+1, so a reuse can be tried.
	good := wire.Message{Kind: wire.KindRedeem, OID: u.OID, Result: "rp+1"}
	_, out, err := b.K.ApplyRemote(ctx, l.BtoA, 1, good.Encode())
	require.NoError(t, err)
	b.Release(out)
	b.AuditNow("good redeem")
	msgs := map[string]string{
		"a result this kernel would allocate": wire.Message{Kind: wire.KindRedeem, OID: u.OID, Result: "rp-4"}.Encode(),
		"a result already allocated":          wire.Message{Kind: wire.KindRedeem, OID: u.OID, Result: "rp+1"}.Encode(),
		"an object as the result":             `{"kind":"redeem","oid":"` + u.OID + `","result":"ro+2"}`,
		"no result":                           `{"kind":"redeem","oid":"` + u.OID + `"}`,
		"a short oid":                         `{"kind":"redeem","oid":"abc","result":"rp+2"}`,
		"an upper-case oid":                   `{"kind":"redeem","oid":"` + strings.ToUpper(u.OID) + `","result":"rp+2"}`,
	}
	for name, m := range msgs {
		t.Run(name, func(t *testing.T) {
			before := kernel.DescribeState(b.Store)
			_, _, err := b.K.ApplyRemote(ctx, l.BtoA, 2, m)
			require.ErrorIs(t, err, kernel.ErrRemoteProtocol)
			require.Equal(t, before, kernel.DescribeState(b.Store), "nothing changed")
			info, _ := b.K.Remote(l.BtoA)
			require.Equal(t, uint64(1), info.Applied, "a refused message is not recorded as applied")
			require.Equal(t, []string{u.OID}, b.Store.SturdyRefOIDs())
			b.AuditNow(name)
		})
	}
}

// A URL of a peer this kernel has never heard of adds the peer as a
// remote, pinned by the URL's peer id and reached at its address hint;
// the issuer learns of the redeemer when it connects (the transport adds
// a peer that authenticated), and the redemption goes through. A later
// URL of the same peer with a new address updates the hint.
func TestURLRedeemAddsThePeer(t *testing.T) {
	a, b := kt.New(t), kt.New(t)
	a.SetLocalPeer(kt.PeerID("A"), "a.test:1")
	b.SetLocalPeer(kt.PeerID("B"), "b.test:1")
	_, root := bank(b)
	url := b.IssueURL(root)
	kp := a.RedeemURL(url)
	remotes := a.K.Remotes()
	require.Len(t, remotes, 1)
	require.Equal(t, kt.PeerID("B"), remotes[0].PeerID, "the URL's key is pinned")
	require.Equal(t, "b.test:1", remotes[0].Address)
	require.Equal(t, 1, remotes[0].Pending, "the redeem message waits for B")
	btoa := b.AddRemote(kt.PeerID("A"), "a.test:1")
	l := kt.LinkOf(a, b, remotes[0].ID, btoa)
	l.Settle(0)
	kp4 := a.Call(presenceOf(t, a, kp), "deposit", int64(4))
	l.Settle(0)
	require.Equal(t, int64(4), a.Value(kp4))

	out, err := b.K.SetLocalPeer(b.Ctx, kt.PeerID("B"), "b.test:2") // B moved
	require.NoError(t, err)
	b.Release(out)
	kp2 := a.RedeemURL(b.IssueURL(root))
	info, _ := a.K.Remote(remotes[0].ID)
	require.Equal(t, "b.test:2", info.Address, "the hint of a known peer is updated")
	l.Settle(0)
	require.Equal(t, presenceOf(t, a, kp), presenceOf(t, a, kp2), "the same object, the same presence")
	require.Len(t, a.K.Remotes(), 1)
}

// A redemption from a peer the host gave up on is rejected at once with
// PEER_UNREACHABLE, by this kernel.
func TestURLRedeemGivenUpPeer(t *testing.T) {
	l, _, root := urlLink(t)
	a, b := l.A, l.B
	url := b.IssueURL(root)
	out, err := a.K.GiveUpRemote(a.Ctx, l.AtoB)
	require.NoError(t, err)
	a.Release(out)
	kp := a.RedeemURL(url)
	require.ErrorIs(t, a.ResultErr(kp), kernel.ErrPeerUnreachable)
	require.Zero(t, outboxLen(t, a, l.AtoB))
}
