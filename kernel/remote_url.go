package kernel

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
	"github.com/ocapgo/kernel-actors/remote/ocapurl"
	"github.com/ocapgo/kernel-actors/remote/wire"
)

// OCAP URLs (docs/remote.md, "OCAP URLs"): a kernel issues, for one of
// its objects, a URL ocap:<oid>@<peer id>/<host:port> (remote/ocapurl).
// The oid names an entry of the sturdy-ref table (persistence), which maps
// it to the object's kref: the kref never leaves the kernel, and the
// entry is a reachable reference that keeps the object alive until the
// URL is revoked. Any kernel that learns the URL can redeem it: the
// redeemer sends the issuer a redeem message (remote/wire) carrying the
// oid and a result promise the redeemer allocated, through the outbox
// like every message (so exactly once, retransmitted until acknowledged,
// duplicates dropped), and the issuer, in the unit that applies it,
// settles the result with the object or rejects it with OCAP_URL_UNKNOWN.
// The answer comes back as an ordinary notify, which turns the object into
// a presence in the redeemer; until then, sends to the result promise go
// to the issuer (pipelining), as to any promise a peer decides.
//
// Object ids are unguessable and deterministic: the kernel has no
// randomness (nor clock), so the n-th oid is HMAC-SHA256 of a 32-byte
// secret over n (ocapurl.OID). The host gives the secret once
// (SetURLSecret; ocapurl.NewSecret makes one) and the kernel keeps it in
// its store, so a restart goes on issuing from the same secret and the
// counter, and a crank replayed after an abort issues the same oid again.
// The alternative, the host passing each oid in, would put the kernel's
// table's keys in the host's hands and make every IssueURL caller
// responsible for their quality.

// Meta keys of the URL state: who this kernel is on the network, and the
// secret its oids derive from (hex).
const (
	metaLocalPeer    = "ocap.local_peer"
	metaLocalAddress = "ocap.local_address"
	metaURLSecret    = "ocap.url_secret"
)

// Errors of the OCAP URL host requests, matched with errors.Is. They never
// reach a vat or a promise.
var (
	// ErrBadURL: the string is not an OCAP URL (it wraps
	// ocapurl.ErrMalformed and says which part is wrong), or it is one
	// this kernel cannot act on (revoking another kernel's URL).
	ErrBadURL = errors.New("kernel: bad OCAP URL")
	// ErrNoLocalPeer: URLs need to know who this kernel is on the
	// network, and SetLocalPeer was never called.
	ErrNoLocalPeer = errors.New("kernel: no local peer set (SetLocalPeer)")
	// ErrNoURLSecret: issuing needs the secret object ids derive from,
	// and SetURLSecret was never called.
	ErrNoURLSecret = errors.New("kernel: no OCAP URL secret set (SetURLSecret)")
)

// LocalPeer reports the peer id and address this kernel's URLs name
// (SetLocalPeer), if set.
func (k *Kernel) LocalPeer() (peerID, address string, ok bool) {
	peerID, ok = k.st.Meta(metaLocalPeer)
	address, _ = k.st.Meta(metaLocalAddress)
	return peerID, address, ok
}

// SetLocalPeer records who this kernel is on the network: its peer id
// (remote/identity's, of its persistent key) and the address it listens
// on, which its URLs name. The address may change between runs (URLs
// issued before keep their old hint; the key is what identifies the
// kernel); the peer id may not: URLs already issued name it, and peers
// pin it, so a different one is refused (ErrBadConfig), as is the peer id
// of one of this kernel's remotes. The first call also creates the
// kernel's URL services (ocapURLIssuerService, ocapURLRedemptionService),
// which a cluster may then list in ClusterConfig.Services. One unit of
// work; a call that changes nothing writes nothing.
func (k *Kernel) SetLocalPeer(ctx context.Context, peerID, address string) ([]Output, error) {
	if err := checkPeerID(peerID); err != nil {
		return nil, err
	}
	if err := ocapurl.CheckAddress(address); err != nil {
		return nil, fmt.Errorf("%w: local address: %w", ErrBadConfig, err)
	}
	old, oldAddr, known := k.LocalPeer()
	if known && old != peerID {
		return nil, fmt.Errorf("%w: local peer id %s, but this kernel is %s: the URLs it issued name that key", ErrBadConfig, peerID, old)
	}
	if r, ok := k.RemoteByPeer(peerID); ok {
		return nil, fmt.Errorf("%w: local peer id %s is remote %s's", ErrBadConfig, peerID, r)
	}
	if known && oldAddr == address && k.urlServicesExist() {
		return nil, nil
	}
	return k.hostUnit(ctx, func() error {
		k.st.SetMeta(metaLocalPeer, peerID)
		k.st.SetMeta(metaLocalAddress, address)
		k.ensureURLServicesLocked()
		return nil
	})
}

// SetURLSecret gives the kernel the secret its object ids derive from: 32
// bytes (ocapurl.SecretLen) that only this kernel may know, such as
// ocapurl.NewSecret's. The first secret is kept for the kernel's life, in
// its store; a later call changes nothing, so a host may offer a fresh
// one at every start. (Changing it would not break issued URLs, which are
// looked up, not recomputed, but keeping one secret keeps the rule
// simple: one kernel, one sequence of oids.) One unit of work, the first
// time.
func (k *Kernel) SetURLSecret(ctx context.Context, secret []byte) ([]Output, error) {
	if len(secret) != ocapurl.SecretLen {
		return nil, fmt.Errorf("%w: OCAP URL secret: want %d bytes, have %d", ErrBadConfig, ocapurl.SecretLen, len(secret))
	}
	if _, ok := k.st.Meta(metaURLSecret); ok {
		return nil, nil
	}
	return k.hostUnit(ctx, func() error {
		k.st.SetMeta(metaURLSecret, hex.EncodeToString(secret))
		return nil
	})
}

// IssueURL issues an OCAP URL for the local object koid (an object of a
// vat here, a presence of a peer's, or a kernel service) and returns it.
// Each call issues a new URL with an oid of its own, so each can be
// revoked alone. The URL's entry keeps koid alive until RevokeURL. One
// unit of work.
func (k *Kernel) IssueURL(ctx context.Context, koid KRef) (string, []Output, error) {
	if _, err := ParseKRef(string(koid)); err != nil {
		return "", nil, err
	}
	if !koid.IsObject() {
		return "", nil, fmt.Errorf("%w: an OCAP URL names an object, not a promise", ErrBadRef)
	}
	if err := k.checkLive(koid); err != nil {
		return "", nil, err
	}
	if err := k.checkCanIssue(); err != nil {
		return "", nil, err
	}
	var url string
	out, err := k.hostUnit(ctx, func() error {
		url = k.issueLocked(koid)
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return url, out, nil
}

// checkCanIssue reports what issuing still needs.
func (k *Kernel) checkCanIssue() error {
	if _, _, ok := k.LocalPeer(); !ok {
		return ErrNoLocalPeer
	}
	if _, ok := k.st.Meta(metaURLSecret); !ok {
		return ErrNoURLSecret
	}
	return nil
}

// issueLocked adds an entry for koid to the sturdy-ref table, in the open
// unit, and returns its URL. The caller checked checkCanIssue and that
// koid is a live object.
func (k *Kernel) issueLocked(koid KRef) string {
	secret, err := hex.DecodeString(k.metaOr(metaURLSecret))
	if err != nil || len(secret) != ocapurl.SecretLen {
		bugf("OCAP URL secret in the store is not %d bytes of hex", ocapurl.SecretLen)
	}
	var oid string
	for {
		oid = ocapurl.OID(secret, k.st.NextID(persistence.MetaNextOcapURL))
		// Two counters giving one oid is a 2^-64 event over 2^32 URLs;
		// skipping it costs a lookup and keeps every entry unique.
		if _, taken := k.st.SturdyRef(oid); !taken {
			break
		}
	}
	k.st.PutSturdyRef(oid, string(koid))
	// INVARIANT 10: the entry is a reachable reference: the object lives
	// while its URL can be redeemed (the auditor recounts it).
	k.incRef(koid, true)
	peer, addr, _ := k.LocalPeer()
	return ocapurl.URL{OID: oid, PeerID: peer, Address: addr}.String()
}

// metaOr reads a meta value, "" if unset.
func (k *Kernel) metaOr(key string) string {
	v, _ := k.st.Meta(key)
	return v
}

// RevokeURL revokes an OCAP URL this kernel issued: its entry goes, with
// the reference it held, and a later redemption is rejected with
// OCAP_URL_UNKNOWN. Presences already redeemed are not affected (revoke
// the object, Revoke, to stop those too). A URL of another kernel is
// ErrBadURL; one not in the table (never issued, or revoked already) is
// ErrOcapURLUnknown. One unit of work.
func (k *Kernel) RevokeURL(ctx context.Context, url string) ([]Output, error) {
	u, err := ocapurl.Parse(url)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	peer, _, ok := k.LocalPeer()
	if !ok {
		return nil, ErrNoLocalPeer
	}
	if u.PeerID != peer {
		return nil, fmt.Errorf("%w: issued by peer %s, not this kernel", ErrBadURL, u.PeerID)
	}
	kref, ok := k.st.SturdyRef(u.OID)
	if !ok {
		return nil, ErrOcapURLUnknown
	}
	return k.hostUnit(ctx, func() error {
		k.st.DeleteSturdyRef(u.OID)
		k.decRef(KRef(kref), true)
		return nil
	})
}

// RedeemURL redeems an OCAP URL and returns a promise, pinned for the host
// as a QueueMessage result is, that settles to the object: a presence of
// the issuer's object, or, for a URL this kernel issued, the local object
// itself. A URL of a peer this kernel does not know adds the peer as a
// remote (its key pinned by the URL's peer id); a known peer's address is
// updated to the URL's hint. The redemption is then a redeem message in
// the remote's outbox, and the promise settles when the issuer's answer
// comes back: rejected with OCAP_URL_UNKNOWN if the issuer has no such
// URL (the issuer's word, ByKernel false), or PEER_UNREACHABLE if the
// host gave up on the peer. Meanwhile the promise can be sent to: the
// sends go to the issuer. A malformed URL is ErrBadURL, and nothing is
// done. One unit of work.
func (k *Kernel) RedeemURL(ctx context.Context, url string) (KRef, []Output, error) {
	u, err := ocapurl.Parse(url)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrBadURL, err)
	}
	if _, _, ok := k.LocalPeer(); !ok {
		// Without it this kernel could not tell its own URLs, and would
		// add itself as a remote.
		return "", nil, ErrNoLocalPeer
	}
	var kpid KRef
	out, err := k.hostUnit(ctx, func() error {
		kpid = k.newPromise("")
		p := k.mustPromise(kpid)
		// As queueFromHostLocked: the host awaits it and holds it until
		// its Output.
		p.HostSubscribed = true
		p.RefCount++
		k.st.PutPromise(string(kpid), p)
		if remote, ok := k.redeemLocked(u, kpid); ok {
			k.forwardPromiseQueue(remote, kpid)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return kpid, out, nil
}

// redeemLocked redeems u into kpid, an unresolved promise the kernel
// decides (a host's, or a service call's result): settled now if this
// kernel issued u (or the peer is given up), or handed to the issuer,
// which decides it from here on, with the redeem message in its outbox.
// It reports the remote when it did the latter, so the caller can move
// what already waits on kpid after the message (forwardPromiseQueue).
func (k *Kernel) redeemLocked(u ocapurl.URL, kpid KRef) (RemoteID, bool) {
	if peer, _, _ := k.LocalPeer(); u.PeerID == peer {
		koid, ok := k.st.SturdyRef(u.OID)
		if !ok {
			k.settle(kpid, true, rejection(ErrOcapURLUnknown), "", true)
			return "", false
		}
		k.settle(kpid, false, objectData(KRef(koid)), "", true)
		return "", false
	}
	remote := k.remoteForPeerLocked(u.PeerID, u.Address)
	if !k.remoteActive(string(remote)) {
		k.settle(kpid, true, rejection(ErrPeerUnreachable), "", true)
		return "", false
	}
	// As prepareRemoteSend for a send's result: the remote decides it
	// now (invariant 8), so it is not subscribed (krefToRRef), and its
	// notify settles it.
	p := k.mustPromise(kpid)
	k.setDecider(&p, VatID(remote))
	k.st.PutPromise(string(kpid), p)
	result := wire.FlipString(k.krefToRRef(remote, kpid))
	// The redeem names where this kernel listens (SetLocalPeer), so an
	// issuer that never met it can answer: the introduction
	// (remote_url_intro.go).
	_, self, _ := k.LocalPeer()
	// INVARIANT: written to the outbox in this unit, like every message:
	// the redemption happens once, whatever crashes or resends follow.
	k.appendOutbox(remote, wire.Message{Kind: wire.KindRedeem, OID: u.OID, Result: result, Reply: self})
	return remote, true
}

// remoteForPeerLocked returns the remote of peerID, adding it (reached at
// address) if it is new, or updating its address hint if it differs, in
// the open unit.
func (k *Kernel) remoteForPeerLocked(peerID, address string) RemoteID {
	if id, ok := k.RemoteByPeer(peerID); ok {
		if row := k.mustRemote(id); row.Address != address {
			row.Address = address
			k.st.PutRemote(string(id), row)
		}
		return id
	}
	id := RemoteID("r" + strconv.FormatUint(k.st.NextID(persistence.MetaNextRemote), 10))
	k.st.PutRemote(string(id), persistence.RemoteRow{
		PeerID: peerID, Address: address, State: persistence.RemoteActive,
		NextObject: 1, NextPromise: 1, NextSend: 1,
	})
	return id
}

// objectData is the value of a promise fulfilled to koid.
func objectData(koid KRef) marshal.CapData {
	return marshal.CapData{Body: `#"$0"`, Slots: []string{string(koid)}}
}

// applyRemoteRedeem is the issuer's half of a redemption, in the unit
// that applies the peer's message: the result is the peer's new promise
// (rp+N in this kernel's frame; anything else is refused as a protocol
// error, changing nothing), which the kernel settles at once, with the
// object the oid names or with OCAP_URL_UNKNOWN. The peer is subscribed to
// it (rrefToKRef), so the settlement goes back as a notify that exports
// the object to the peer. The text of the rejection names neither the oid
// nor a ref (invariant 7).
func (k *Kernel) applyRemoteRedeem(remote RemoteID, msg wire.Message) error {
	kpid, err := k.rrefToKRef(remote, msg.Result, rrefOpts{result: true})
	if err != nil {
		return fmt.Errorf("redeem result: %w", err)
	}
	koid, ok := k.st.SturdyRef(msg.OID)
	if !ok {
		k.log.Info().Str("remote", string(remote)).Msg("redemption of an OCAP URL this kernel does not hold (revoked or never issued)")
		k.settle(kpid, true, rejection(ErrOcapURLUnknown), "", true)
		return nil
	}
	k.settle(kpid, false, objectData(KRef(koid)), "", true)
	return nil
}
