package identity

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"testing"
)

// handshake runs a TLS handshake between a client and a server over an
// in-memory pipe and returns each side's error and, on success, the peer
// id each side authenticated.
func handshake(t *testing.T, cli, srv *tls.Config) (cliErr, srvErr error, cliSaw, srvSaw PeerID) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	type result struct {
		err error
		id  PeerID
	}
	done := make(chan result, 1)
	go func() {
		s := tls.Server(b, srv)
		err := s.Handshake()
		var id PeerID
		if err == nil {
			id, err = PeerOf(s.ConnectionState())
		}
		// Close so that a client still waiting for the server's answer
		// sees the end instead of blocking.
		b.Close()
		done <- result{err, id}
	}()
	c := tls.Client(a, cli)
	cliErr = c.Handshake()
	if cliErr == nil {
		cliSaw, cliErr = PeerOf(c.ConnectionState())
	}
	a.Close()
	r := <-done
	return cliErr, r.err, cliSaw, r.id
}

func twoIdentities(t *testing.T) (*Identity, *Identity) {
	r := seeded(t)
	a, err := Generate(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(r)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() == b.ID() {
		t.Fatal("two generated identities share an id")
	}
	return a, b
}

func TestCertificateIsDerivedFromTheKey(t *testing.T) {
	a, _ := twoIdentities(t)
	c1, err := a.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := a.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	// The same key gives the same certificate: nothing to store beside it.
	if !bytes.Equal(c1.Certificate[0], c2.Certificate[0]) {
		t.Fatal("two certificates of one key differ")
	}
	id, err := PeerIDOfCert(c1.Certificate[0])
	if err != nil || id != a.ID() {
		t.Fatalf("PeerIDOfCert = %s, %v; want %s", id, err, a.ID())
	}
	if c1.Leaf.Subject.CommonName != string(a.ID()) {
		t.Fatalf("subject %q, want the peer id", c1.Leaf.Subject.CommonName)
	}
	if _, err := PeerIDOfCert([]byte("junk")); !errors.Is(err, ErrPeerRefused) {
		t.Fatalf("PeerIDOfCert(junk) = %v, want ErrPeerRefused", err)
	}
}

func TestMutualTLSWithPinnedKey(t *testing.T) {
	client, server := twoIdentities(t)
	cli, err := client.ClientTLS(Pin(server.ID()))
	if err != nil {
		t.Fatal(err)
	}
	var accepted []PeerID
	srv, err := server.ServerTLS(func(id PeerID) error { accepted = append(accepted, id); return nil })
	if err != nil {
		t.Fatal(err)
	}
	cerr, serr, cliSaw, srvSaw := handshake(t, cli, srv)
	if cerr != nil || serr != nil {
		t.Fatalf("handshake: client %v, server %v", cerr, serr)
	}
	// Each side authenticated the other's key: mutual.
	if cliSaw != server.ID() || srvSaw != client.ID() {
		t.Fatalf("client saw %s (want %s), server saw %s (want %s)", cliSaw.Short(), server.ID().Short(), srvSaw.Short(), client.ID().Short())
	}
	if len(accepted) != 1 || accepted[0] != client.ID() {
		t.Fatalf("server's accept policy was asked about %v, want [%s]", accepted, client.ID().Short())
	}
}

func TestPeerWithChangedKeyIsRefused(t *testing.T) {
	client, server := twoIdentities(t)
	impostor, err := Generate(seeded(t))
	if err != nil {
		t.Fatal(err)
	}
	// The client pinned server's key; another key answers at its address
	// (the server lost its key file and made a new one, or it is someone
	// else).
	cli, _ := client.ClientTLS(Pin(server.ID()))
	srv, _ := impostor.ServerTLS(func(PeerID) error { return nil })
	cerr, serr, _, _ := handshake(t, cli, srv)
	if !errors.Is(cerr, ErrPeerRefused) {
		t.Fatalf("client handshake with a changed key = %v, want ErrPeerRefused", cerr)
	}
	if serr == nil {
		t.Fatal("the server's handshake succeeded although the client refused it")
	}
}

func TestServerRefusesClients(t *testing.T) {
	client, server := twoIdentities(t)
	t.Run("refused by the accept policy", func(t *testing.T) {
		cli, _ := client.ClientTLS(Pin(server.ID()))
		srv, _ := server.ServerTLS(func(id PeerID) error { return fmt.Errorf("%w: %s is not known", ErrPeerRefused, id.Short()) })
		_, serr, _, _ := handshake(t, cli, srv)
		if !errors.Is(serr, ErrPeerRefused) {
			t.Fatalf("server handshake = %v, want ErrPeerRefused", serr)
		}
	})
	t.Run("a client with no certificate", func(t *testing.T) {
		cli := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}
		srv, _ := server.ServerTLS(func(PeerID) error { return nil })
		_, serr, _, _ := handshake(t, cli, srv)
		if serr == nil {
			t.Fatal("the server accepted a client with no certificate")
		}
	})
	t.Run("TLS 1.2 only", func(t *testing.T) {
		cli, _ := client.ClientTLS(Pin(server.ID()))
		cli.MaxVersion = tls.VersionTLS12
		srv, _ := server.ServerTLS(func(PeerID) error { return nil })
		_, serr, _, _ := handshake(t, cli, srv)
		if serr == nil {
			t.Fatal("the server accepted TLS 1.2")
		}
	})
	if _, err := client.ClientTLS(nil); err == nil {
		t.Fatal("ClientTLS(nil) accepted: a dial with no pin would trust anyone")
	}
	if _, err := server.ServerTLS(nil); err == nil {
		t.Fatal("ServerTLS(nil) accepted")
	}
}
