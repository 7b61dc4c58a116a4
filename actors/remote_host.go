package actors

import (
	"context"
	"errors"

	"github.com/ocapgo/kernel-actors/kernel"
)

// The host's side of a kernel on the network: its peers (remotes), the
// introductions between them, and its own identity. Each call is a
// request to the kernel actor, handled between cranks, as the others are.

// ErrNoRemote is returned by the remote calls of a kernel started without
// Config.Remote.
var ErrNoRemote = errors.New("actors: the kernel has no remote (Config.Remote is not set)")

// Peer is a kernel's identity on the network: the peer id other kernels
// pin (the SHA-256 of its public key, hex) and the address they reach it
// at (host:port).
type Peer struct {
	ID      string
	Address string
}

// LocalPeer is this kernel's own peer id and address, what another
// kernel's host gives AddRemote to reach it.
func (k *Kernel) LocalPeer(ctx context.Context) (Peer, error) {
	v, err := k.ask(ctx, &localPeerReq{replier: newReplier()})
	if err != nil {
		return Peer{}, err
	}
	return v.(Peer), nil
}

// Remotes lists the kernel's peer kernels, by remote id: each one's peer
// id and address, how many messages wait in its outbox for its ack
// (Pending), and whether the kernel gave up on it (GivenUp).
func (k *Kernel) Remotes(ctx context.Context) ([]kernel.RemoteInfo, error) {
	v, err := k.ask(ctx, &remotesReq{replier: newReplier()})
	if err != nil {
		return nil, err
	}
	infos, _ := v.([]kernel.RemoteInfo)
	return infos, nil
}

// AddRemote makes the kernel with peer id peerID, reached at address
// (host:port), a peer of this one, and returns its remote id; a peer
// already known keeps its id, and its address is updated. From then on
// only a peer presenting that key is accepted from or dialled at that
// address. The answer comes once the change is in the file.
func (k *Kernel) AddRemote(ctx context.Context, peerID, address string) (kernel.RemoteID, error) {
	v, err := k.ask(ctx, &addRemoteReq{replier: newReplier(), peer: peerID, addr: address})
	if err != nil {
		return "", err
	}
	return v.(kernel.RemoteID), nil
}

// ExportToRemote gives remote a reference to the local object koid (a
// kref the host holds) and returns the ref the peer knows it by, for
// the peer's host to pass to ImportFromRemote. The object stays alive
// while the peer holds it.
func (k *Kernel) ExportToRemote(ctx context.Context, remote kernel.RemoteID, koid kernel.KRef) (string, error) {
	v, err := k.ask(ctx, &exportToRemoteReq{replier: newReplier(), remote: remote, koid: koid})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// ImportFromRemote turns a ref the peer's ExportToRemote returned into a
// presence: a kref of an object that lives in the peer, pinned for the
// host (Release lets go of it), usable as a QueueMessage target and as an
// argument to vats. Importing the same ref again returns the same kref,
// pinned once more.
func (k *Kernel) ImportFromRemote(ctx context.Context, remote kernel.RemoteID, ref string) (kernel.KRef, error) {
	v, err := k.ask(ctx, &importFromRemoteReq{replier: newReplier(), remote: remote, ref: ref})
	if err != nil {
		return "", err
	}
	return v.(kernel.KRef), nil
}

// GiveUpRemote gives up on a peer now (kernel.GiveUpRemote), as
// RemoteConfig.GiveUpAfter does on its own: the promises it decides
// reject with kernel.ErrPeerUnreachable, the objects it owns are
// orphaned, and its outbox is dropped. It cannot be undone.
func (k *Kernel) GiveUpRemote(ctx context.Context, remote kernel.RemoteID) error {
	_, err := k.ask(ctx, &giveUpRemoteReq{replier: newReplier(), remote: remote})
	return err
}

type localPeerReq struct{ replier }
type remotesReq struct{ replier }
type addRemoteReq struct {
	replier
	peer, addr string
}
type exportToRemoteReq struct {
	replier
	remote kernel.RemoteID
	koid   kernel.KRef
}
type importFromRemoteReq struct {
	replier
	remote kernel.RemoteID
	ref    string
}
type giveUpRemoteReq struct {
	replier
	remote kernel.RemoteID
}

func (*localPeerReq) kernelMessage()        {}
func (*remotesReq) kernelMessage()          {}
func (*addRemoteReq) kernelMessage()        {}
func (*exportToRemoteReq) kernelMessage()   {}
func (*importFromRemoteReq) kernelMessage() {}
func (*giveUpRemoteReq) kernelMessage()     {}

func (r *localPeerReq) handle(ka *kernelActor) {
	if ka.rem == nil {
		r.reply(nil, ErrNoRemote)
		return
	}
	r.reply(Peer{ID: string(ka.rem.id.ID()), Address: ka.rem.addr}, nil)
}

func (r *remotesReq) handle(ka *kernelActor) {
	if ka.rem == nil {
		r.reply(nil, ErrNoRemote)
		return
	}
	r.reply(ka.k.Remotes(), nil)
}

func (r *addRemoteReq) handle(ka *kernelActor) {
	if ka.rem == nil {
		r.reply(nil, ErrNoRemote)
		return
	}
	id, out, err := ka.k.AddRemote(ka.ctx, r.peer, r.addr)
	ka.release(out)
	if err == nil {
		// INVARIANT: the TLS layer pins what the kernel holds before the
		// next dial (the next Send, at the end of this message).
		ka.rem.pump.RefreshPins()
	}
	ka.replyDurable(r.replier, id, err)
	ka.kick()
}

func (r *exportToRemoteReq) handle(ka *kernelActor) {
	if ka.rem == nil {
		r.reply(nil, ErrNoRemote)
		return
	}
	ref, out, err := ka.k.ExportToRemote(ka.ctx, r.remote, r.koid)
	ka.release(out)
	ka.replyDurable(r.replier, ref, err)
	ka.kick()
}

func (r *importFromRemoteReq) handle(ka *kernelActor) {
	if ka.rem == nil {
		r.reply(nil, ErrNoRemote)
		return
	}
	koid, out, err := ka.k.ImportFromRemote(ka.ctx, r.remote, r.ref)
	ka.release(out)
	ka.replyDurable(r.replier, koid, err)
	ka.kick()
}

func (r *giveUpRemoteReq) handle(ka *kernelActor) {
	if ka.rem == nil {
		r.reply(nil, ErrNoRemote)
		return
	}
	out, err := ka.k.GiveUpRemote(ka.ctx, r.remote)
	ka.release(out)
	if err == nil {
		ka.rem.pump.RefreshPins()
	}
	ka.replyDurable(r.replier, nil, err)
	ka.kick()
}
