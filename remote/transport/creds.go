package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/remote/identity"
)

// The TLS side of a node, as gRPC options for protoactor-go remote
// (remote.WithDialOptions, remote.WithServerOptions). Each piece is the
// standard library's TLS through gRPC's credentials; what is added here
// is only the choice of which key to pin for which address, and the
// binding of a stream to the key that authenticated it.

// ErrRefused is returned (wrapped) when a node refuses a configuration or
// a connection: plaintext off loopback, a dial to an address with no
// pinned key.
var ErrRefused = errors.New("transport: refused")

// pins maps a peer's address to the peer id pinned for it, and keeps the
// set of peer ids a node accepts connections from. It is read by gRPC's
// goroutines and written by the node's actor, hence the lock.
type pins struct {
	// open says the server accepts a client with any key it proves it
	// holds, not only the remotes' keys: the kernel takes introductions
	// (a redeem from a kernel it never met; intro.go). Set once, before
	// the server starts.
	open bool
	mu   struct {
		sync.Mutex
		byAddr map[string]identity.PeerID
		known  map[identity.PeerID]bool
		// refusals pins the reply address of each stranger a refusal
		// went to lately (refusal.go), apart from the remotes' pins,
		// which set replaces; refusalSeq orders them, oldest first out.
		refusals   map[string]refusalPin
		refusalSeq uint64
	}
}

func newPins() *pins {
	p := &pins{}
	p.mu.byAddr = map[string]identity.PeerID{}
	p.mu.known = map[identity.PeerID]bool{}
	p.mu.refusals = map[string]refusalPin{}
	return p
}

// set replaces the pins with the kernel's remotes (address -> peer id).
// A refusal's pin at an address that is now a remote's goes, and is
// returned to be closed if its key is another (a connection made for
// the stranger's key must not carry the remote's frames); one of the
// same key is the stranger become a remote, whose connection stays.
func (p *pins) set(byAddr map[string]identity.PeerID) (closing []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.byAddr = byAddr
	p.mu.known = map[identity.PeerID]bool{}
	for _, id := range byAddr {
		p.mu.known[id] = true
	}
	for addr, r := range p.mu.refusals {
		if id, ok := byAddr[addr]; ok {
			delete(p.mu.refusals, addr)
			if id != r.peer {
				closing = append(closing, addr)
			}
		}
	}
	return closing
}

// addrs lists the pinned peers' addresses, the refusals' included.
func (p *pins) addrs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.mu.byAddr)+len(p.mu.refusals))
	for a := range p.mu.byAddr {
		out = append(out, a)
	}
	for a := range p.mu.refusals {
		out = append(out, a)
	}
	return out
}

// forAddr is the key a dial to addr must meet: a remote's, or else a
// refused stranger's.
func (p *pins) forAddr(addr string) (identity.PeerID, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.mu.byAddr[addr]; ok {
		return id, true
	}
	r, ok := p.mu.refusals[addr]
	return r.peer, ok
}

// same reports whether the pins hold exactly the remotes of infos that
// were not given up on.
func (p *pins) same(infos []kernel.RemoteInfo) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, info := range infos {
		if info.GivenUp {
			continue
		}
		n++
		if id, ok := p.mu.byAddr[info.Address]; !ok || id != identity.PeerID(info.PeerID) {
			return false
		}
	}
	return n == len(p.mu.byAddr)
}

// pinRemotes gives the TLS layer the kernel's remotes (infos, as
// kernel.Remotes lists them), when they changed: where each peer is and
// which key it must present. A remote the kernel gave up on is not
// pinned: nothing is sent to it, and nothing taken from it.
func (p *Pump) pinRemotes(infos []kernel.RemoteInfo) {
	if p.pins.same(infos) {
		return // the usual case, at every Send: no allocation
	}
	byAddr := map[string]identity.PeerID{}
	for _, info := range infos {
		if !info.GivenUp {
			byAddr[info.Address] = identity.PeerID(info.PeerID)
		}
	}
	p.closeEndpoints(p.pins.set(byAddr))
}

// accept is the server's policy. The handshake has proved that the
// client holds the key of its certificate (identity.ServerTLS); a
// node that takes introductions accepts any such key, and its pump
// decides frame by frame what a key that is no remote's may send (only
// an introducing redeem, intro.go). Otherwise only peers the kernel
// knows (a remote row names their key) may connect.
func (p *pins) accept(id identity.PeerID) error {
	if p.open {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.mu.known[id] {
		return fmt.Errorf("%w: peer %s is not a remote of this kernel", identity.ErrPeerRefused, id.Short())
	}
	return nil
}

// pinnedCreds are client credentials that dial each address with TLS
// pinned to the peer id the kernel holds for it (identity.Pin): a peer
// whose key changed fails the handshake.
type pinnedCreds struct {
	id   *identity.Identity
	pins *pins
}

var _ credentials.TransportCredentials = (*pinnedCreds)(nil)

// ClientHandshake runs the TLS handshake for authority (the dialled
// host:port) with the pin for it.
func (c *pinnedCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	want, ok := c.pins.forAddr(authority)
	if !ok {
		raw.Close()
		return nil, nil, fmt.Errorf("%w: no peer key pinned for %s", ErrRefused, authority)
	}
	cfg, err := c.id.ClientTLS(identity.Pin(want))
	if err != nil {
		raw.Close()
		return nil, nil, err
	}
	return credentials.NewTLS(cfg).ClientHandshake(ctx, authority, raw)
}

// ServerHandshake is not used: these credentials only dial.
func (c *pinnedCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	raw.Close()
	return nil, nil, fmt.Errorf("%w: client credentials cannot accept", ErrRefused)
}

// Info says TLS.
func (c *pinnedCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "tls", SecurityVersion: "1.3"}
}

// Clone shares the pins: they are the node's, not the connection's.
func (c *pinnedCreds) Clone() credentials.TransportCredentials {
	return &pinnedCreds{id: c.id, pins: c.pins}
}

// OverrideServerName is a no-op: the pin, not a name, is checked.
func (c *pinnedCreds) OverrideServerName(string) error { return nil }

// tlsOptions are the protoactor-go remote options for mutual TLS.
func tlsOptions(id *identity.Identity, p *pins) ([]remote.ConfigOption, error) {
	srv, err := id.ServerTLS(p.accept)
	if err != nil {
		return nil, err
	}
	return []remote.ConfigOption{
		remote.WithServerOptions(grpc.Creds(credentials.NewTLS(srv)), grpc.ChainStreamInterceptor(stampPeer)),
		remote.WithDialOptions(grpc.WithTransportCredentials(&pinnedCreds{id: id, pins: p})),
	}, nil
}

// stampPeer binds a stream to the peer its TLS handshake authenticated:
// every envelope received on it carries that peer id in PeerHeader,
// whatever the sender wrote there.
func stampPeer(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	p, ok := peer.FromContext(ss.Context())
	if !ok {
		return status.Error(codes.Unauthenticated, "transport: no peer on the stream")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return status.Error(codes.Unauthenticated, "transport: stream is not TLS")
	}
	id, err := identity.PeerOf(info.State)
	if err != nil {
		return status.Error(codes.Unauthenticated, err.Error())
	}
	return handler(srv, &stampedStream{ServerStream: ss, peer: string(id)})
}

type stampedStream struct {
	grpc.ServerStream
	peer string
}

// RecvMsg stamps every envelope of a received batch.
func (s *stampedStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err != nil {
		return err
	}
	if rm, ok := m.(*remote.RemoteMessage); ok {
		if b := rm.GetMessageBatch(); b != nil {
			for _, e := range b.Envelopes {
				if e.MessageHeader == nil {
					e.MessageHeader = &remote.MessageHeader{}
				}
				if e.MessageHeader.HeaderData == nil {
					e.MessageHeader.HeaderData = map[string]string{}
				}
				// INVARIANT: a frame's sender is the key that authenticated
				// the stream, never the sender's own claim.
				e.MessageHeader.HeaderData[PeerHeader] = s.peer
			}
		}
	}
	return nil
}

// isLoopback reports whether host names a loopback address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
