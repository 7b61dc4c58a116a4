// Package identity is a kernel's identity among its peers: a persistent
// ed25519 key pair, the peer id that names it (the SHA-256 of the public
// key), the self-signed X.509 certificate derived from the key, and the
// TLS configurations for mutual authentication with the peer's key
// pinned.
//
// It owns the key file (beside the kernel's database, mode 0600) and
// nothing else. It writes no cryptography of its own: keys, signatures,
// certificates and TLS are the standard library's (crypto/ed25519,
// crypto/x509, crypto/tls). Trust rests on the pinned key alone, never on
// a certificate authority or on dates: a certificate's validity spans all
// of time that X.509 can spell, so that no clock is read and no clock
// skew between machines can break a link.
//
// # Usage
//
//	id, created, err := identity.LoadOrCreate(identity.KeyPath(dbPath), rand.Reader)
//	srv, _ := id.ServerTLS(func(p identity.PeerID) error { return nil }) // who may connect
//	cli, _ := id.ClientTLS(identity.Pin(peerID))                          // whom we dial
//
// The caller's duties:
//
//  1. Keep the key file private: LoadOrCreate refuses one that anyone
//     but its owner may read or write, and a key file that is not a
//     regular file.
//  2. Pin a peer's id when it is introduced (an OCAP URL carries it) and
//     dial it only with that pin: a peer whose key changed is then refused
//     by the TLS handshake itself.
//  3. Bind what a server-side connection says to the peer id the
//     handshake authenticated (PeerIDOf the certificate's key), never to
//     an id the peer claims in its messages.
package identity
