package identity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Errors of this package, matched with errors.Is. The wrapping error names
// the file or the id and says what is wrong.
var (
	// ErrBadKeyFile: the key file cannot be used: not a regular file,
	// readable or writable by others than its owner, or not an ed25519
	// private key in PEM (PKCS #8).
	ErrBadKeyFile = errors.New("identity: bad key file")
	// ErrBadPeerID: a peer id is not 64 lower-case hex digits.
	ErrBadPeerID = errors.New("identity: malformed peer id")
	// ErrPeerRefused: a peer's certificate is missing, is not a
	// self-signed ed25519 certificate, or carries a key other than the
	// one pinned for it (its key changed), or the accept policy refused
	// its id.
	ErrPeerRefused = errors.New("identity: peer refused")
)

// PeerID names a kernel among its peers: the SHA-256 of its ed25519
// public key, as 64 lower-case hex digits. It is derived, not chosen, so
// a peer cannot claim another's id without its private key.
type PeerID string

// PeerIDOf is the peer id of pub.
func PeerIDOf(pub ed25519.PublicKey) PeerID {
	sum := sha256.Sum256(pub)
	return PeerID(hex.EncodeToString(sum[:]))
}

// ParsePeerID checks that s is a well-formed peer id (one spelling per
// key: lower-case only, so two strings never name one peer).
func ParsePeerID(s string) (PeerID, error) {
	if len(s) != 2*sha256.Size {
		return "", fmt.Errorf("%w: %q: want %d hex digits, have %d characters", ErrBadPeerID, s, 2*sha256.Size, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", fmt.Errorf("%w: %q: character %d is not a lower-case hex digit", ErrBadPeerID, s, i)
		}
	}
	return PeerID(s), nil
}

// Short is the first 12 digits of the id, for logs and names shown to
// people; never for comparison.
func (p PeerID) Short() string {
	if len(p) < 12 {
		return string(p)
	}
	return string(p[:12])
}

// Identity is one kernel's key pair and the peer id it gives. It is
// immutable once made, and safe for concurrent use.
type Identity struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
	id   PeerID
}

// Generate makes a fresh identity from rand (crypto/rand.Reader in
// production; a seeded reader in tests, which makes the key a function of
// the seed).
func Generate(rand io.Reader) (*Identity, error) {
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("identity: generate key: %w", err)
	}
	return fromKey(priv, pub), nil
}

func fromKey(priv ed25519.PrivateKey, pub ed25519.PublicKey) *Identity {
	return &Identity{priv: priv, pub: pub, id: PeerIDOf(pub)}
}

// ID is the identity's peer id.
func (i *Identity) ID() PeerID { return i.id }

// PublicKey is the identity's public key (a copy: the caller may keep it).
func (i *Identity) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), i.pub...)
}

// KeyPath is where the key of the kernel whose database is dbPath lives:
// beside it, as dbPath + ".key". An in-memory kernel (dbPath "") has no
// key file; it gets a fresh identity per process (Generate).
func KeyPath(dbPath string) string {
	if dbPath == "" {
		return ""
	}
	return dbPath + ".key"
}

// pemType is the PEM block type of the key file: PKCS #8, as openssl
// writes and reads it.
const pemType = "PRIVATE KEY"

// private is the permission bits a key file may have: the owner's read
// and write, nothing for group or others.
const private fs.FileMode = 0o600

// LoadOrCreate reads the identity kept at path, or, if there is no file,
// makes one from rand and writes it there with mode 0600. created reports
// which. A file that exists but cannot be used is refused (ErrBadKeyFile),
// never replaced: a kernel whose key changed would be refused by every
// peer that knows it, so losing a key is the host's decision, not this
// function's.
func LoadOrCreate(path string, rand io.Reader) (id *Identity, created bool, err error) {
	if path == "" {
		return nil, false, fmt.Errorf("%w: empty path (an in-memory kernel uses Generate)", ErrBadKeyFile)
	}
	id, err = Load(path)
	if err == nil {
		return id, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	id, err = Generate(rand)
	if err != nil {
		return nil, false, err
	}
	if err := id.write(path); err != nil {
		// Two kernels racing to create one key: the one that lost the
		// link reads what the winner wrote, so both end with one key.
		if errors.Is(err, fs.ErrExist) {
			id, err = Load(path)
			return id, false, err
		}
		return nil, false, err
	}
	return id, true, nil
}

// Load reads the identity kept at path. A missing file is fs.ErrNotExist
// (wrapped); every other fault is ErrBadKeyFile, naming the file.
func Load(path string) (*Identity, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("identity: key file %s: %w", path, err)
	}
	// INVARIANT: only a regular file with no permission for group or
	// others is trusted with the kernel's identity: a symlink could point
	// anywhere, and a readable key lets anyone speak as this kernel.
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file (%s)", ErrBadKeyFile, path, fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm&^private != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o: group and others must have no access (chmod 600)", ErrBadKeyFile, path, perm)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadKeyFile, path, err)
	}
	return parseKey(path, raw)
}

// parseKey decodes a key file's contents; path is for the errors.
func parseKey(path string, raw []byte) (*Identity, error) {
	block, rest := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("%w: %s: no PEM block", ErrBadKeyFile, path)
	}
	if block.Type != pemType {
		return nil, fmt.Errorf("%w: %s: PEM block %q, want %q", ErrBadKeyFile, path, block.Type, pemType)
	}
	if len(rest) != 0 && len(trimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: %s: data after the key", ErrBadKeyFile, path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadKeyFile, path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s: a %T, want an ed25519 key", ErrBadKeyFile, path, key)
	}
	return fromKey(priv, priv.Public().(ed25519.PublicKey)), nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == '\n' || b[0] == '\r' || b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// write stores the key at path, atomically and exclusively: it is written
// to a temporary file (mode 0600 from its creation, so it is never
// readable by others, not even for a moment), synced, and linked to path,
// which fails if path exists (fs.ErrExist). A crash leaves either no key
// file or a whole one, never a torn key that a restart would refuse.
func (i *Identity) write(path string) error {
	der, err := x509.MarshalPKCS8PrivateKey(i.priv)
	if err != nil {
		return fmt.Errorf("identity: encode key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der})
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return fmt.Errorf("identity: write key %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after the link, only the name goes
	// CreateTemp makes the file 0600 already; the Chmod says so here, so
	// that a umask or a platform difference cannot widen it.
	if err := tmp.Chmod(private); err != nil {
		tmp.Close()
		return fmt.Errorf("identity: write key %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("identity: write key %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("identity: write key %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("identity: write key %s: %w", path, err)
	}
	if err := os.Link(tmpName, path); err != nil {
		return fmt.Errorf("identity: write key %s: %w", path, err)
	}
	// The link is an entry of dir: sync it too, or a crash could lose
	// the name of a key the kernel already used.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
