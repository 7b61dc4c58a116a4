package identity

import (
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"
)

// Certificates are made from the key, not kept: the same key always gives
// the same certificate (ed25519 signatures are deterministic, and nothing
// in it depends on the clock), so there is no second file to lose or to
// disagree with the key.

// The validity of every certificate: the widest span X.509 can write
// (RFC 5280 4.1.2.5: 99991231235959Z means "no well-defined expiration").
// Trust rests on the pinned key, so dates would only add a way for a
// wrong clock to break a link.
var (
	notBefore = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// Certificate is the identity's self-signed X.509 certificate, for TLS:
// subject and DNS name the peer id, serial the first 16 bytes of it.
func (i *Identity) Certificate() (tls.Certificate, error) {
	// The id is hex of its own making (PeerIDOf), so decoding cannot fail.
	raw, _ := hex.DecodeString(string(i.id[:32]))
	serial := new(big.Int).SetBytes(raw)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: string(i.id)},
		DNSNames:              []string{string(i.id)},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // self-signed: it is its own issuer
	}
	// ed25519 signing reads no randomness, so the rand argument is unused
	// (nil is documented as acceptable then) and the result deterministic.
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, i.pub, i.priv)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("identity: make certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("identity: parse own certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: i.priv, Leaf: leaf}, nil
}

// Verify decides whether a peer, authenticated as id by the handshake, is
// the one wanted: nil accepts it.
type Verify func(id PeerID) error

// Pin accepts exactly the peer want: a peer whose key changed has another
// id, and is refused.
func Pin(want PeerID) Verify {
	return func(got PeerID) error {
		// INVARIANT: a dialled peer is accepted only with the key pinned
		// for it; a new key is a new peer, to be introduced again.
		if got != want {
			return fmt.Errorf("%w: the peer presented key %s, but %s is pinned (its key changed, or another kernel answers at its address)", ErrPeerRefused, got.Short(), want.Short())
		}
		return nil
	}
}

// ClientTLS is the TLS configuration for dialling a peer: TLS 1.3, this
// identity's certificate presented, and the server accepted only if
// verify accepts the id its key gives. No CA and no host name is checked:
// the pinned key is the whole of the trust.
func (i *Identity) ClientTLS(verify Verify) (*tls.Config, error) {
	if verify == nil {
		return nil, fmt.Errorf("identity: ClientTLS: nil verify (use Pin)")
	}
	cert, err := i.Certificate()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		// The standard chain and name checks are replaced, not skipped:
		// VerifyPeerCertificate below runs on every handshake and refuses
		// everything but the pinned key.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: verifyPeer(verify),
	}, nil
}

// ServerTLS is the TLS configuration for accepting peers: TLS 1.3, a
// client certificate required, and the client accepted only if accept
// accepts the id its key gives (a policy: known peers only, or anyone
// redeeming an OCAP URL; either way the id is authenticated).
func (i *Identity) ServerTLS(accept Verify) (*tls.Config, error) {
	if accept == nil {
		return nil, fmt.Errorf("identity: ServerTLS: nil accept")
	}
	cert, err := i.Certificate()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:            tls.VersionTLS13,
		Certificates:          []tls.Certificate{cert},
		ClientAuth:            tls.RequireAnyClientCert,
		VerifyPeerCertificate: verifyPeer(accept),
	}, nil
}

// verifyPeer checks the peer's certificate and hands its id to v. The
// handshake has already proved that the peer holds the private key of the
// certificate's public key (its CertificateVerify message); what is left
// is to check that the certificate is a well-formed self-signed ed25519
// one and that its key is wanted.
func verifyPeer(v Verify) func(raw [][]byte, _ [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) != 1 {
			return fmt.Errorf("%w: want exactly one certificate, got %d", ErrPeerRefused, len(raw))
		}
		id, err := PeerIDOfCert(raw[0])
		if err != nil {
			return err
		}
		return v(id)
	}
}

// PeerIDOfCert is the peer id of a self-signed ed25519 certificate (DER),
// or ErrPeerRefused if it is not one. A server binds a connection to this
// id: it is what the handshake authenticated.
func PeerIDOfCert(der []byte) (PeerID, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", fmt.Errorf("%w: certificate: %w", ErrPeerRefused, err)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return "", fmt.Errorf("%w: certificate key is a %T, want ed25519", ErrPeerRefused, cert.PublicKey)
	}
	// Self-signed by that same key: a certificate made for this protocol
	// always is, and anything else is not a kernel's.
	if err := cert.CheckSignatureFrom(cert); err != nil {
		return "", fmt.Errorf("%w: certificate is not self-signed: %w", ErrPeerRefused, err)
	}
	return PeerIDOf(pub), nil
}

// PeerOf is the peer id a finished handshake authenticated.
func PeerOf(cs tls.ConnectionState) (PeerID, error) {
	if !cs.HandshakeComplete || len(cs.PeerCertificates) == 0 {
		return "", fmt.Errorf("%w: no authenticated peer on this connection", ErrPeerRefused)
	}
	return PeerIDOfCert(cs.PeerCertificates[0].Raw)
}
