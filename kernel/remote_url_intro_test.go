package kernel_test

import (
	"context"
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

// strangers is two kernels that have never met, each with its local peer
// set (A at a.test:1, B at b.test:1), and a bank in B.
func strangers(t *testing.T, a, b *kt.Driver) (kernel.KRef, *[]int64) {
	a.SetLocalPeer(kt.PeerID("A"), "a.test:1")
	b.SetLocalPeer(kt.PeerID("B"), "b.test:1")
	_, root, log := bankLog(b)
	return root, log
}

// introduce hands B the first message of A's only remote, as the
// transport does with a frame from a key B does not know.
func introduce(t *testing.T, a, b *kt.Driver, limit int) (kernel.RemoteID, error) {
	t.Helper()
	remotes := a.K.Remotes()
	require.Len(t, remotes, 1)
	msg, ok := a.K.RemoteMessage(remotes[0].ID, 1)
	require.True(t, ok, "A's first message waits in its outbox")
	id, out, err := b.K.IntroduceRemote(b.Ctx, kt.PeerID("A"), 1, msg, limit)
	b.Release(out)
	b.AuditNow("introduce")
	return id, err
}

// Two kernels that never met: A redeems B's URL, which adds B as a remote
// on its own (pinned to the URL's key) and writes a redeem naming A's
// address; B has never heard of A, and the redeem introduces it: in one
// unit B adds A as a remote, reached at that address, and answers. A
// deposit A pipelined on the redemption before the answer reaches the
// bank, the promise settles to a presence, and a later send through it is
// answered. Both auditors are green after every step, and the remote
// counts as introduced (it survives a restart, with its mark).
func TestURLIntroduction(t *testing.T) {
	dir := t.TempDir()
	a := kt.NewWithOptions(t, filepath.Join(dir, "a.db"), persistence.Options{})
	b := kt.NewWithOptions(t, filepath.Join(dir, "b.db"), persistence.Options{})
	root, log := strangers(t, a, b)
	kp := a.RedeemURL(b.IssueURL(root))
	kpDep := a.Call(kp, "deposit", int64(3))
	a.RunUntilQuiescent(0)
	atob := a.K.Remotes()[0]
	require.Equal(t, kt.PeerID("B"), atob.PeerID, "the redeemer added the issuer, pinned to the URL's key")
	require.Equal(t, "b.test:1", atob.Address)
	require.Equal(t, 2, atob.Pending, "the redeem and the pipelined deposit wait for B")
	first, _ := a.K.RemoteMessage(atob.ID, 1)
	m, err := wire.Decode(first)
	require.NoError(t, err)
	require.Equal(t, "a.test:1", m.Reply, "the redeem names where A listens")
	require.Empty(t, b.K.Remotes(), "B knows nobody")

	btoa, err := introduce(t, a, b, kernel.DefaultMaxIntroduced)
	require.NoError(t, err)
	info, err := b.K.Remote(btoa)
	require.NoError(t, err)
	require.Equal(t, kt.PeerID("A"), info.PeerID, "pinned to the key that sent the redeem")
	require.Equal(t, "a.test:1", info.Address, "reached at the redeem's reply address")
	require.Equal(t, uint64(1), info.Applied, "the redeem is applied, in the introducing unit")
	require.Equal(t, 1, b.K.Introduced())
	b.RunUntilQuiescent(0)
	require.Equal(t, 1, outboxLen(t, b, btoa), "the answer waits in B's outbox, for A")

	l := kt.LinkOf(a, b, atob.ID, btoa)
	l.Settle(0)
	require.Equal(t, 1, l.Duplicates["a>b"], "the redeem, sent again, is a duplicate")
	require.Equal(t, int64(3), a.Value(kpDep), "the pipelined deposit reached the bank")
	kp5 := a.Call(presenceOf(t, a, kp), "deposit", int64(5))
	l.Settle(0)
	require.Equal(t, int64(8), a.Value(kp5))
	require.Equal(t, []int64{3, 5}, *log, "each deposit once, in order")
	require.Zero(t, outboxLen(t, a, atob.ID))
	require.Zero(t, outboxLen(t, b, btoa))

	b.RestartKernel(true)
	require.Equal(t, 1, b.K.Introduced(), "the mark is durable")
	b.AuditNow("after restart")
}

// The first message of a key this kernel does not know introduces it
// only if it is a well-formed redeem, at seq 1, of a live oid, with a
// reply address that is no one's here. Every other is refused with
// ErrIntroductionRefused and changes nothing: no remote, no mark, no
// committed unit, the same state, c-lists, outboxes, meta and sturdy
// refs, and the auditor is green.
func TestURLIntroductionRefused(t *testing.T) {
	b := kt.New(t)
	b.SetLocalPeer(kt.PeerID("B"), "b.test:1")
	_, root, _ := bankLog(b)
	u, err := ocapurl.Parse(b.IssueURL(root))
	require.NoError(t, err)
	revoked := b.IssueURL(root)
	b.RevokeURL(revoked)
	ru, _ := ocapurl.Parse(revoked)
	c := b.AddRemote(kt.PeerID("C"), "c.test:1") // a peer B knows
	stranger := kt.PeerID("A")
	redeem := func(edit func(*wire.Message)) string {
		m := wire.Message{Kind: wire.KindRedeem, OID: u.OID, Result: "rp+1", Reply: "a.test:1"}
		if edit != nil {
			edit(&m)
		}
		return m.Encode()
	}
	cases := []struct {
		name   string
		peer   string
		seq    uint64
		msg    string
		limit  int
		wantIs error
		want   string
	}{
		{name: "a deliver", msg: `{"kind":"deliver","target":"ro-1","methargs":{"body":"#[\"x\",[]]"}}`, want: "only a redeem"},
		{name: "a notify", msg: `{"kind":"notify","resolutions":[{"promise":"rp+1","data":{"body":"#1"}}]}`, want: "only a redeem"},
		{name: "a GC message", msg: `{"kind":"dropExports","refs":["ro-1"]}`, want: "only a redeem"},
		{name: "a redeem at seq 2", seq: 2, msg: redeem(nil), want: "first message"},
		{name: "a redeem that knows our messages", msg: redeem(func(m *wire.Message) { m.Known = 1 }), wantIs: kernel.ErrRemoteProtocol},
		{name: "a redeem without a reply address", msg: redeem(func(m *wire.Message) { m.Reply = "" }), want: "no reply address"},
		{name: "a reply address that is no address", msg: `{"kind":"redeem","oid":"` + u.OID + `","result":"rp+1","reply":"a.test"}`, wantIs: kernel.ErrRemoteProtocol},
		{name: "a reply address of this kernel", msg: redeem(func(m *wire.Message) { m.Reply = "b.test:1" }), want: "this kernel's own"},
		{name: "a known peer's address with another key", msg: redeem(func(m *wire.Message) { m.Reply = "c.test:1" }), want: "changed key"},
		{name: "an unknown oid", msg: redeem(func(m *wire.Message) { m.OID = strings.Repeat("0", 32) }), wantIs: kernel.ErrOcapURLUnknown},
		{name: "a revoked oid", msg: redeem(func(m *wire.Message) { m.OID = ru.OID }), wantIs: kernel.ErrOcapURLUnknown},
		{name: "a result this kernel would allocate", msg: redeem(func(m *wire.Message) { m.Result = "rp-1" }), wantIs: kernel.ErrRemoteProtocol},
		{name: "not JSON", msg: `{"kind":"redeem",`, wantIs: kernel.ErrRemoteProtocol},
		{name: "an unknown field", msg: `{"kind":"redeem","oid":"` + u.OID + `","result":"rp+1","reply":"a.test:1","from":"x"}`, wantIs: kernel.ErrRemoteProtocol},
		{name: "a malformed peer id", peer: "A", msg: redeem(nil), wantIs: kernel.ErrBadConfig},
		{name: "this kernel's own peer id", peer: kt.PeerID("B"), msg: redeem(nil), want: "own id"},
		{name: "a known peer", peer: kt.PeerID("C"), msg: redeem(nil), want: "already"},
		{name: "no introductions taken", limit: -1, msg: redeem(nil), want: "no introductions"},
		{name: "a limit of none", limit: -2, msg: redeem(nil), want: "no introductions"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			peer, seq, limit := tt.peer, tt.seq, tt.limit
			if peer == "" {
				peer = stranger
			}
			if seq == 0 {
				seq = 1
			}
			if limit == 0 {
				limit = kernel.DefaultMaxIntroduced
			}
			before := b.StoreView()
			id, out, err := b.K.IntroduceRemote(context.Background(), peer, seq, tt.msg, limit)
			require.ErrorIs(t, err, kernel.ErrIntroductionRefused)
			if tt.wantIs != nil {
				require.ErrorIs(t, err, tt.wantIs)
			}
			if tt.want != "" {
				require.Contains(t, err.Error(), tt.want)
			}
			require.Empty(t, id)
			require.Empty(t, out)
			require.Equal(t, before, b.StoreView(), "nothing changed")
			require.Equal(t, []kernel.RemoteID{c}, remoteIDs(b), "no remote was added")
			require.Zero(t, b.K.Introduced())
			b.AuditNow(tt.name)
		})
	}
}

// remoteIDs lists a kernel's remotes' ids.
func remoteIDs(d *kt.Driver) []kernel.RemoteID {
	var ids []kernel.RemoteID
	for _, r := range d.K.Remotes() {
		ids = append(ids, r.ID)
	}
	return ids
}

// The limit counts introductions made: two strangers are introduced under
// a limit of 2, the third is refused (nothing changed), a remote the host
// adds is not counted, and giving up on an introduced remote does not
// free its place.
func TestURLIntroductionLimit(t *testing.T) {
	b := kt.New(t)
	b.SetLocalPeer(kt.PeerID("B"), "b.test:1")
	_, root, _ := bankLog(b)
	u, err := ocapurl.Parse(b.IssueURL(root))
	require.NoError(t, err)
	b.AddRemote(kt.PeerID("host-added"), "h.test:1")
	msgFrom := func(i int) string {
		return wire.Message{Kind: wire.KindRedeem, OID: u.OID, Result: "rp+1", Reply: "s.test:" + string(rune('1'+i))}.Encode()
	}
	var introduced []kernel.RemoteID
	for i := range 2 {
		id, out, err := b.K.IntroduceRemote(b.Ctx, kt.PeerID("stranger"+string(rune('0'+i))), 1, msgFrom(i), 2)
		require.NoError(t, err, "stranger %d", i)
		b.Release(out)
		b.AuditNow("introduce")
		introduced = append(introduced, id)
	}
	require.Equal(t, 2, b.K.Introduced(), "the host's remote is not counted")
	before := b.StoreView()
	_, _, err = b.K.IntroduceRemote(b.Ctx, kt.PeerID("stranger2"), 1, msgFrom(2), 2)
	require.ErrorIs(t, err, kernel.ErrIntroductionRefused)
	require.Contains(t, err.Error(), "limit of 2")
	require.Equal(t, before, b.StoreView(), "nothing changed")
	require.Len(t, b.K.Remotes(), 3)

	out, err := b.K.GiveUpRemote(b.Ctx, introduced[0])
	require.NoError(t, err)
	b.Release(out)
	b.AuditNow("give up")
	_, _, err = b.K.IntroduceRemote(b.Ctx, kt.PeerID("stranger2"), 1, msgFrom(2), 2)
	require.ErrorIs(t, err, kernel.ErrIntroductionRefused, "a given-up introduction still counts")
	_, out, err = b.K.IntroduceRemote(b.Ctx, kt.PeerID("stranger2"), 1, msgFrom(2), 3)
	require.NoError(t, err, "a higher limit takes it")
	b.Release(out)
	b.AuditNow("introduce under a higher limit")
	require.Equal(t, 3, b.K.Introduced())
}
