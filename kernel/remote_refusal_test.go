package kernel_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/ocapurl"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// refusalOf is the answer B's IntroduceRemote gives A's first message:
// it must be refused with a RedeemRefused, which changes nothing on B.
func refusalOf(t *testing.T, a, b *kt.Driver, limit int) wire.Refusal {
	t.Helper()
	before := b.StoreView()
	_, err := introduce(t, a, b, limit)
	require.ErrorIs(t, err, kernel.ErrIntroductionRefused)
	var rr *kernel.RedeemRefused
	require.True(t, errors.As(err, &rr), "a refusal to answer: %v", err)
	require.Equal(t, before, b.StoreView(), "the issuer keeps nothing of the stranger")
	require.Empty(t, b.K.Remotes())
	return rr.Refusal
}

// requireNoTrace checks that nothing in d's store names remote r: its
// row, c-list, outbox, retired refs, sent exports and meta marks.
func requireNoTrace(t *testing.T, d *kt.Driver, r kernel.RemoteID) {
	t.Helper()
	st := d.K.Store()
	_, ok := st.Remote(string(r))
	require.False(t, ok, "no row for %s", r)
	require.Empty(t, st.CListKRefs(string(r)), "no c-list for %s", r)
	require.NotContains(t, st.OutboxRemotes(), string(r))
	require.NotContains(t, st.RetiredRemotes(), string(r))
	require.NotContains(t, st.SentRemotes(), string(r))
	for _, key := range st.MetaKeys() {
		require.False(t, strings.HasSuffix(key, "."+string(r)), "meta %s names %s", key, r)
	}
	_, err := d.K.Remote(r)
	require.ErrorIs(t, err, kernel.ErrUnknownRemote)
}

// A stranger redeems a revoked URL, and an oid that was never issued,
// with sends pipelined behind the redeem (one carrying an object of
// A's, one a promise of A's): the issuer refuses the introduction with a
// refusal naming the redeem, and keeps nothing; the redeemer honours it
// in one unit: the redemption and the pipelined sends reject with
// OCAP_URL_UNKNOWN (no oid, kref or remote id in the text), the remote
// is gone with every row, and what the sends exported is released (the
// auditor recounts every object). A later redemption of a live URL of
// the same issuer then adds it fresh, at seq 1, and works end to end.
func TestURLRefusalForgetsTheLink(t *testing.T) {
	for _, which := range []string{"revoked", "unknown"} {
		t.Run(which, func(t *testing.T) {
			dir := t.TempDir()
			a := kt.NewWithOptions(t, filepath.Join(dir, "a.db"), persistence.Options{})
			b := kt.NewWithOptions(t, filepath.Join(dir, "b.db"), persistence.Options{})
			root, log := strangers(t, a, b)
			_, mine, _ := namedBank(a, "abank")
			url := b.IssueURL(root)
			if which == "revoked" {
				b.RevokeURL(url)
			} else {
				u, err := ocapurl.Parse(url)
				require.NoError(t, err)
				u.OID = strings.Repeat("5", 32)
				url = u.String()
			}
			u, _ := ocapurl.Parse(url)
			kp := a.RedeemURL(url)
			kpDep := a.Call(kp, "deposit", int64(3))
			kpArg := a.Send(kp, "hold", mine)
			local := a.Call(mine, "deposit", int64(1)) // a promise of A's, sent below
			kpPromise := a.Send(kp, "hold", local)
			a.RunUntilQuiescent(0)
			atob := a.K.Remotes()[0].ID
			require.GreaterOrEqual(t, outboxLen(t, a, atob), 4, "the redeem and three pipelined sends wait")

			r := refusalOf(t, a, b, kernel.DefaultMaxIntroduced)
			require.Equal(t, wire.Refusal{Seq: 1, OID: u.OID, Reason: wire.RefusedUnknownOID}, r)

			out, err := a.K.ApplyRefusal(a.Ctx, atob, r.Encode())
			require.NoError(t, err)
			a.Release(out)
			a.AuditNow("refusal applied")
			for _, p := range []kernel.KRef{kp, kpDep, kpArg, kpPromise} {
				err := a.ResultErr(p)
				require.True(t, kernel.Carries(err, kernel.ErrOcapURLUnknown), "%s: %v", p, err)
				require.NotContains(t, err.Error(), u.OID)
				require.NotContains(t, err.Error(), string(atob))
				require.NotContains(t, err.Error(), "ko")
			}
			requireNoTrace(t, a, atob)
			a.RunUntilQuiescent(0)
			a.AuditNow("after the cranks")

			// A second refusal (a resend's) finds no remote.
			_, err = a.K.ApplyRefusal(a.Ctx, atob, r.Encode())
			require.ErrorIs(t, err, kernel.ErrUnknownRemote)

			// A fresh link: a live URL of the same issuer.
			kp2 := a.RedeemURL(b.IssueURL(root))
			kpDep2 := a.Call(kp2, "deposit", int64(5))
			a.RunUntilQuiescent(0)
			remotes := a.K.Remotes()
			require.Len(t, remotes, 1)
			fresh := remotes[0]
			require.NotEqual(t, atob, fresh.ID, "remote ids are never reused")
			first, ok := a.K.RemoteMessage(fresh.ID, 1)
			require.True(t, ok, "the new link starts at seq 1")
			m, err := wire.Decode(first)
			require.NoError(t, err)
			require.Equal(t, wire.KindRedeem, m.Kind)
			btoa, err := introduce(t, a, b, kernel.DefaultMaxIntroduced)
			require.NoError(t, err)
			b.RunUntilQuiescent(0)
			l := kt.LinkOf(a, b, fresh.ID, btoa)
			l.Settle(0)
			require.Equal(t, int64(5), a.Value(kpDep2))
			require.Equal(t, []int64{5}, *log, "only the live link's deposit reached the bank")
			presenceOf(t, a, kp2)

			a.RestartKernel(true)
			requireNoTrace(t, a, atob)
			a.AuditNow("after kill -9")
		})
	}
}

// A refusal is honoured only from a remote that never took up the link,
// naming its first message, a redeem of that oid. Every other refusal
// (the peer acked, the peer sent a message we applied, another oid,
// another seq, the refusal coming over another remote's key, a given-up
// remote, a malformed one) is refused, and changes nothing: the same
// store view, and the auditor is green.
func TestURLRefusalIgnored(t *testing.T) {
	a := kt.New(t)
	b := kt.New(t)
	root, _ := strangers(t, a, b)
	url := b.IssueURL(root)
	u, _ := ocapurl.Parse(url)
	kp := a.RedeemURL(url)
	a.RunUntilQuiescent(0)
	atob := a.K.Remotes()[0].ID
	// C is a peer A knows, whose URL A redeems too (C is never run).
	cu := ocapurl.URL{OID: strings.Repeat("c", 32), PeerID: kt.PeerID("C"), Address: "c.test:1"}
	a.RedeemURL(cu.String())
	a.RunUntilQuiescent(0)
	c, ok := a.K.RemoteByPeer(kt.PeerID("C"))
	require.True(t, ok)
	d := a.AddRemote(kt.PeerID("D"), "d.test:1") // a remote nothing was sent to
	refusal := func(seq uint64, oid string) string {
		return wire.Refusal{Seq: seq, OID: oid, Reason: wire.RefusedUnknownOID}.Encode()
	}
	try := func(name string, r kernel.RemoteID, enc string, wantIs error, want string) {
		t.Helper()
		before := a.StoreView()
		out, err := a.K.ApplyRefusal(a.Ctx, r, enc)
		require.ErrorIs(t, err, wantIs, name)
		if want != "" {
			require.Contains(t, err.Error(), want, name)
		}
		require.Empty(t, out, name)
		require.Equal(t, before, a.StoreView(), "%s: nothing changed", name)
		a.AuditNow(name)
	}
	try("another oid", atob, refusal(1, strings.Repeat("0", 32)), kernel.ErrRefusalIgnored, "another oid")
	try("another seq", atob, refusal(2, u.OID), kernel.ErrRefusalIgnored, "message 2")
	try("over another remote's key", c, refusal(1, u.OID), kernel.ErrRefusalIgnored, "another oid")
	try("to a remote nothing was sent to", d, refusal(1, u.OID), kernel.ErrRefusalIgnored, "nothing was sent")
	try("malformed", atob, `{"seq":1}`, kernel.ErrRemoteProtocol, "")
	try("a message, not a refusal", atob, wire.Message{Kind: wire.KindRedeem, OID: u.OID, Result: "rp+1"}.Encode(), kernel.ErrRemoteProtocol, "")
	try("no such remote", "r99", refusal(1, u.OID), kernel.ErrUnknownRemote, "")
	require.NotContains(t, func() string {
		_, err := a.K.ApplyRefusal(a.Ctx, atob, refusal(1, strings.Repeat("0", 32)))
		return err.Error()
	}(), strings.Repeat("0", 32),
		"the log line names no oid")

	// B takes the redeem as an introduction, and A applies B's ack alone:
	// the peer took up the link, and a late refusal is ignored.
	first, _ := a.K.RemoteMessage(atob, 1)
	btoa, out, err := b.K.IntroduceRemote(b.Ctx, kt.PeerID("A"), 1, first, kernel.DefaultMaxIntroduced)
	require.NoError(t, err)
	b.Release(out)
	b.RunUntilQuiescent(0)
	out, err = a.K.AckRemote(a.Ctx, atob, 1)
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("ack")
	try("after the peer acked", atob, refusal(1, u.OID), kernel.ErrRefusalIgnored, "took up the link")
	// And once its answer is applied (Applied 1) too.
	l := kt.LinkOf(a, b, atob, btoa)
	l.Settle(0)
	presenceOf(t, a, kp)
	try("after the peer answered", atob, refusal(1, u.OID), kernel.ErrRefusalIgnored, "took up the link")

	// A given-up remote is not forgotten by a refusal either.
	out, err = a.K.GiveUpRemote(a.Ctx, c)
	require.NoError(t, err)
	a.Release(out)
	try("a given-up remote", c, refusal(1, cu.OID), kernel.ErrRefusalIgnored, "given up")

	// The same refusal that C would send, over C's key, while C is live
	// and silent, is honoured: the control of the cases above.
	e := ocapurl.URL{OID: strings.Repeat("e", 32), PeerID: kt.PeerID("E"), Address: "e.test:1"}
	kpE := a.RedeemURL(e.String())
	a.RunUntilQuiescent(0)
	er, _ := a.K.RemoteByPeer(kt.PeerID("E"))
	out, err = a.K.ApplyRefusal(a.Ctx, er, refusal(1, e.OID))
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("E's refusal")
	require.True(t, kernel.Carries(a.ResultErr(kpE), kernel.ErrOcapURLUnknown))
	requireNoTrace(t, a, er)
}

// Past the issuer's introduction limit a stranger's redeem of a live
// URL is refused with the limit's reason: the redeemer's promises reject
// with PEER_UNREACHABLE (the URL may be good; the issuer will not take
// a link now) and the remote is forgotten; once the issuer takes more,
// the same URL redeems on a fresh link.
func TestURLRefusalLimit(t *testing.T) {
	a := kt.New(t)
	b := kt.New(t)
	root, _ := strangers(t, a, b)
	url := b.IssueURL(root)
	u, _ := ocapurl.Parse(url)
	kp := a.RedeemURL(url)
	kpDep := a.Call(kp, "deposit", int64(2))
	a.RunUntilQuiescent(0)
	atob := a.K.Remotes()[0].ID

	r := refusalOf(t, a, b, 0) // a limit of 0: full at once
	require.Equal(t, wire.Refusal{Seq: 1, OID: u.OID, Reason: wire.RefusedLimit}, r)
	out, err := a.K.ApplyRefusal(a.Ctx, atob, r.Encode())
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("limit refusal")
	for _, p := range []kernel.KRef{kp, kpDep} {
		err := a.ResultErr(p)
		require.True(t, kernel.Carries(err, kernel.ErrPeerUnreachable), "%s: %v", p, err)
		require.NotContains(t, err.Error(), u.OID)
	}
	requireNoTrace(t, a, atob)

	kp2 := a.RedeemURL(url)
	a.RunUntilQuiescent(0)
	fresh := a.K.Remotes()[0].ID
	btoa, err := introduce(t, a, b, 1)
	require.NoError(t, err, "a higher limit takes it")
	b.RunUntilQuiescent(0)
	kt.LinkOf(a, b, fresh, btoa).Settle(0)
	presenceOf(t, a, kp2)
}

// Work queued for the remote (here a GC action: the host let go of a
// presence of the issuer's object, imported before the redemption)
// holds the refusal off, changing nothing; once the crank has taken the
// work, the next refusal (a resend's) is honoured, and the presence's
// object is orphaned.
func TestURLRefusalWaitsForQueuedWork(t *testing.T) {
	a := kt.New(t)
	b := kt.New(t)
	root, _ := strangers(t, a, b)
	url := b.IssueURL(root)
	b.RevokeURL(url)
	u, _ := ocapurl.Parse(url)
	atob := a.AddRemote(kt.PeerID("B"), "b.test:1")
	presence, out, err := a.K.ImportFromRemote(a.Ctx, atob, "ro+1")
	require.NoError(t, err)
	a.Release(out)
	kept, out, err := a.K.ImportFromRemote(a.Ctx, atob, "ro+2")
	require.NoError(t, err)
	a.Release(out)
	kp := a.RedeemURL(url)
	out, err = a.K.Unpin(a.Ctx, presence)
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("unpin")
	require.NotEmpty(t, a.K.Store().GCActions(), "a GC action for the issuer is queued")

	r := wire.Refusal{Seq: 1, OID: u.OID, Reason: wire.RefusedUnknownOID}.Encode()
	before := a.StoreView()
	_, err = a.K.ApplyRefusal(a.Ctx, atob, r)
	require.ErrorIs(t, err, kernel.ErrRefusalIgnored)
	require.Contains(t, err.Error(), "GC action")
	require.Equal(t, before, a.StoreView(), "nothing changed")

	a.RunUntilQuiescent(0)
	out, err = a.K.ApplyRefusal(a.Ctx, atob, r)
	require.NoError(t, err)
	a.Release(out)
	a.AuditNow("refusal")
	require.True(t, kernel.Carries(a.ResultErr(kp), kernel.ErrOcapURLUnknown))
	requireNoTrace(t, a, atob)
	o, ok := a.K.Store().Object(string(kept))
	require.True(t, ok, "the host still holds the presence it kept")
	require.Empty(t, o.Owner, "orphaned, as a given-up peer's objects are")
	kpSend := a.Call(kept, "deposit", int64(1))
	a.RunUntilQuiescent(0)
	require.ErrorIs(t, a.ResultErr(kpSend), kernel.ErrObjectDeleted)
}
