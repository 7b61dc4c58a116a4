package actors

import (
	"context"
	"fmt"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/remote/ocapurl"
)

// OCAP URLs from the host (docs/remote.md, "OCAP URLs"): a kernel with a
// remote tells its kernel who it is on the network at every start
// (kernel.SetLocalPeer: its peer id and address, which its URLs name) and
// offers it a fresh URL secret (kept only the first time), so that it can
// issue URLs, and its vats can use the kernel's URL services.

// IssueURL issues an OCAP URL for the object kref (a kref the host holds:
// a vat's object, a presence, a service): a sturdy reference naming this
// kernel's peer id and address, that another kernel redeems for a
// presence. Each call issues a new URL, revoked on its own (RevokeURL);
// the URL keeps the object alive until then.
func (k *Kernel) IssueURL(ctx context.Context, kref kernel.KRef) (string, error) {
	v, err := k.ask(ctx, &issueURLReq{replier: newReplier(), kref: kref})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// RevokeURL revokes a URL this kernel issued: a later redemption is
// rejected with OCAP_URL_UNKNOWN (presences already redeemed stay; Revoke
// the object to stop those too).
func (k *Kernel) RevokeURL(ctx context.Context, url string) error {
	_, err := k.ask(ctx, &revokeURLReq{replier: newReplier(), url: url})
	return err
}

// RedeemURL redeems an OCAP URL and waits, until ctx ends, for the
// object it names: a presence of the issuer's object (a kref pinned for
// the host; Release lets go), or the local object for a URL this kernel
// issued. A URL of a peer this kernel does not know adds the peer as a
// remote, its key pinned by the URL. The issuer's refusal is an error
// matching kernel.ErrOcapURLUnknown; a malformed URL is kernel.ErrBadURL.
// An issuer that never met this kernel takes the redemption as an
// introduction (RemoteConfig.MaxIntroduced on its side), unless the URL
// is revoked or unknown there, or its limit is reached: then it answers
// with a refusal, the link it never took up is forgotten (the remote is
// deleted, docs/remote.md "Introductions"), and the error matches
// kernel.ErrOcapURLUnknown (kernel.ErrPeerUnreachable for the limit;
// match either with kernel.Carries).
func (k *Kernel) RedeemURL(ctx context.Context, url string) (kernel.KRef, error) {
	v, err := k.ask(ctx, &redeemURLReq{replier: newReplier(), url: url})
	if err != nil {
		return "", err
	}
	kref, ok := v.(kernel.KRef)
	if !ok {
		return "", fmt.Errorf("actors: the redemption settled to %T, not an object", v)
	}
	return kref, nil
}

type issueURLReq struct {
	replier
	kref kernel.KRef
}
type revokeURLReq struct {
	replier
	url string
}
type redeemURLReq struct {
	replier
	url string
}
type localPeerSetupReq struct{ replier }

func (*issueURLReq) kernelMessage()       {}
func (*revokeURLReq) kernelMessage()      {}
func (*redeemURLReq) kernelMessage()      {}
func (*localPeerSetupReq) kernelMessage() {}

// setUpLocalPeer is the start's step for a kernel with a remote: the
// kernel learns its peer id and address (its URLs name them; the first
// time it also makes its URL services), and a URL secret.
func (k *Kernel) setUpLocalPeer(ctx context.Context) error {
	_, err := k.ask(ctx, &localPeerSetupReq{replier: newReplier()})
	return err
}

func (r *localPeerSetupReq) handle(ka *kernelActor) {
	secret, err := ocapurl.NewSecret()
	if err != nil {
		r.reply(nil, err)
		return
	}
	out, err := ka.k.SetLocalPeer(ka.ctx, string(ka.rem.id.ID()), ka.rem.addr)
	ka.release(out)
	if err != nil {
		r.reply(nil, fmt.Errorf("actors: Config.Remote: the kernel refuses this node's identity: %w", err))
		return
	}
	// Kept the first time only: a fresh one each start costs nothing.
	out, err = ka.k.SetURLSecret(ka.ctx, secret)
	ka.release(out)
	ka.replyDurable(r.replier, nil, err)
	ka.kick()
}

func (r *issueURLReq) handle(ka *kernelActor) {
	if ka.rem == nil {
		r.reply(nil, ErrNoRemote)
		return
	}
	url, out, err := ka.k.IssueURL(ka.ctx, r.kref)
	ka.release(out)
	ka.replyDurable(r.replier, url, err)
	ka.kick()
}

func (r *revokeURLReq) handle(ka *kernelActor) {
	if ka.rem == nil {
		r.reply(nil, ErrNoRemote)
		return
	}
	out, err := ka.k.RevokeURL(ka.ctx, r.url)
	ka.release(out)
	ka.replyDurable(r.replier, nil, err)
	ka.kick()
}

func (r *redeemURLReq) handle(ka *kernelActor) {
	if ka.rem == nil {
		r.reply(nil, ErrNoRemote)
		return
	}
	kpid, out, err := ka.k.RedeemURL(ka.ctx, r.url)
	if err != nil {
		ka.release(out)
		r.reply(nil, err)
		return
	}
	// The redemption may have added the issuer as a remote: its key is
	// pinned before the redeem message is dialled (the Send at the end of
	// this message).
	ka.rem.pump.RefreshPins()
	ka.wait(kpid, r.replier, func(o kernel.Output) { r.reply(outcome(o)) })
	ka.release(out)
	ka.kick()
}
