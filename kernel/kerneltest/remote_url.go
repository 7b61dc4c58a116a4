package kerneltest

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
)

// Helpers for OCAP URLs between linked kernels. Each call is one host
// request and is audited, as the Driver's own steps are.

// Secret is a stand-in OCAP URL secret for a test kernel named name: 32
// bytes, the same for the same name (the real ones come from
// ocapurl.NewSecret).
func Secret(name string) []byte {
	sum := sha256.Sum256([]byte("secret of " + name))
	return sum[:]
}

// SetLocalPeer tells d's kernel who it is on the network, and gives it
// the secret Secret(peer) for its URLs.
func (d *Driver) SetLocalPeer(peer, addr string) {
	d.T.Helper()
	out, err := d.K.SetLocalPeer(d.Ctx, peer, addr)
	if err != nil {
		d.T.Fatalf("kerneltest: set local peer: %v", err)
	}
	d.release(out)
	d.audit("set local peer")
	out, err = d.K.SetURLSecret(d.Ctx, Secret(peer))
	if err != nil {
		d.T.Fatalf("kerneltest: set URL secret: %v", err)
	}
	d.release(out)
	d.audit("set URL secret")
}

// SetLocalPeers names each side of l as Connect made the other know it:
// A is PeerID("A") at a.test:1, B is PeerID("B") at b.test:1.
func (l *Link) SetLocalPeers() {
	l.A.T.Helper()
	l.A.SetLocalPeer(PeerID("A"), "a.test:1")
	l.B.SetLocalPeer(PeerID("B"), "b.test:1")
}

// IssueURL issues an OCAP URL for koid in d's kernel.
func (d *Driver) IssueURL(koid kernel.KRef) string {
	d.T.Helper()
	url, out, err := d.K.IssueURL(d.Ctx, koid)
	if err != nil {
		d.T.Fatalf("kerneltest: issue URL for %s: %v", koid, err)
	}
	d.release(out)
	d.audit("issue URL")
	return url
}

// RedeemURL redeems url in d's kernel and returns the host's promise.
func (d *Driver) RedeemURL(url string) kernel.KRef {
	d.T.Helper()
	kpid, out, err := d.K.RedeemURL(d.Ctx, url)
	if err != nil {
		d.T.Fatalf("kerneltest: redeem URL: %v", err)
	}
	d.release(out)
	d.audit("redeem URL")
	return kpid
}

// RevokeURL revokes url in d's kernel.
func (d *Driver) RevokeURL(url string) {
	d.T.Helper()
	out, err := d.K.RevokeURL(d.Ctx, url)
	if err != nil {
		d.T.Fatalf("kerneltest: revoke URL: %v", err)
	}
	d.release(out)
	d.audit("revoke URL")
}

// LinkOf makes a Link of two kernels that already know each other as
// remotes atob (B in A) and btoa (A in B): say B learned of A by
// redeeming A's URL, and A of B when B first connected, as a transport
// adds a peer that authenticated.
func LinkOf(a, b *Driver, atob, btoa kernel.RemoteID) *Link {
	return &Link{A: a, B: b, AtoB: atob, BtoA: btoa, Applied: map[string]int{}, Duplicates: map[string]int{}}
}

// StoreView is everything a refused introduction or a dropped frame might
// have touched, as text to compare before and after: the kernel state,
// every remote with its c-list and outbox, the meta table (introduction
// marks, counters), the sturdy-ref table, and the count of committed
// units.
func (d *Driver) StoreView() string {
	var b strings.Builder
	b.WriteString(kernel.DescribeState(d.Store))
	for _, r := range d.K.Remotes() {
		fmt.Fprintf(&b, "%+v\n%s", r, kernel.DescribeCList(d.Store, kernel.VatID(r.ID)))
		for seq := r.Acked + 1; seq < r.NextSend; seq++ {
			m, _ := d.K.RemoteMessage(r.ID, seq)
			fmt.Fprintf(&b, "  outbox %d %s\n", seq, m)
		}
	}
	for _, key := range d.Store.MetaKeys() {
		v, _ := d.Store.Meta(key)
		fmt.Fprintf(&b, "meta %s=%s\n", key, v)
	}
	fmt.Fprintf(&b, "sturdy refs %v\ncommits %d\n", d.Store.SturdyRefOIDs(), d.Store.Stats().Commits)
	return b.String()
}
