package ocapurl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/ocapgo/kernel-actors/remote/identity"
)

// ErrMalformed is returned, wrapped with what is wrong, for a string that
// is not an OCAP URL or one of whose parts is not well formed.
var ErrMalformed = errors.New("ocapurl: malformed OCAP URL")

// Scheme is how every OCAP URL begins.
const Scheme = "ocap:"

// OIDLen is the length of an object id: 128 bits in hex.
const OIDLen = 32

// SecretLen is the length of the secret OID derives object ids from.
const SecretLen = 32

// MaxLen bounds a URL: the fixed parts, and an address of at most 255
// characters (a DNS name's longest) with its port. Anything longer is
// refused before it is looked at.
const MaxLen = len(Scheme) + OIDLen + 1 + 64 + 1 + 255 + 1 + 5

// URL is a parsed OCAP URL.
type URL struct {
	OID     string // the object id: 32 lower-case hex digits
	PeerID  string // the issuer's peer id: 64 lower-case hex digits
	Address string // where the issuer listens: host:port (a hint)
}

// String spells u. It does not check u; Format does.
func (u URL) String() string {
	return Scheme + u.OID + "@" + u.PeerID + "/" + u.Address
}

// Format checks the three parts and spells the URL they make.
func Format(oid, peerID, address string) (string, error) {
	u := URL{OID: oid, PeerID: peerID, Address: address}
	if err := u.check(); err != nil {
		return "", err
	}
	return u.String(), nil
}

// Parse parses and checks an OCAP URL. It accepts exactly what Format
// writes: Parse(s) succeeds only if Format of its parts gives s back.
func Parse(s string) (URL, error) {
	// Bounded first: a peer or a vat hands this string in, and nothing
	// below should walk megabytes to refuse it.
	if len(s) > MaxLen {
		return URL{}, fmt.Errorf("%w: %d bytes, longer than the %d an OCAP URL can be", ErrMalformed, len(s), MaxLen)
	}
	rest, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return URL{}, fmt.Errorf("%w: does not begin with %q", ErrMalformed, Scheme)
	}
	// The oid and the peer id are hex, so the first '@' and the first '/'
	// after it are the separators; whatever else holds either is refused
	// by the part's own check (an address never has a '/', a user part
	// '@' is refused as a host character).
	oid, rest, ok := strings.Cut(rest, "@")
	if !ok {
		return URL{}, fmt.Errorf("%w: no '@' after the object id", ErrMalformed)
	}
	peer, addr, ok := strings.Cut(rest, "/")
	if !ok {
		return URL{}, fmt.Errorf("%w: no '/' between the peer id and the address", ErrMalformed)
	}
	u := URL{OID: oid, PeerID: peer, Address: addr}
	if err := u.check(); err != nil {
		return URL{}, err
	}
	return u, nil
}

// check checks each part, in the order they are written, so the error
// names the first part that is wrong, as a reader scanning the URL from
// the left would find it.
func (u URL) check() error {
	if err := CheckOID(u.OID); err != nil {
		return err
	}
	if _, err := identity.ParsePeerID(u.PeerID); err != nil {
		return fmt.Errorf("%w: peer id: %w", ErrMalformed, err)
	}
	return CheckAddress(u.Address)
}

// CheckOID checks an object id: exactly 32 lower-case hex digits. The
// error does not quote it (it is the capability).
func CheckOID(oid string) error {
	if len(oid) != OIDLen {
		return fmt.Errorf("%w: object id: want %d lower-case hex digits, have %d characters", ErrMalformed, OIDLen, len(oid))
	}
	for i := 0; i < len(oid); i++ {
		if c := oid[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: object id: character %d is not a lower-case hex digit", ErrMalformed, i)
		}
	}
	return nil
}

// CheckAddress checks an address hint: host:port, where host is a DNS
// name or an IPv4 address (letters, digits, '-' and '.'), or an IPv6
// address in brackets, with no zone; and port is 1 to 65535 in decimal
// with no leading zero. Nothing else may appear: no user, path, query or
// space, which keeps the URL one token that a shell or a log keeps whole.
func CheckAddress(addr string) error {
	// The port follows the last ':': an IPv6 host holds colons of its
	// own, inside its brackets.
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return fmt.Errorf("%w: address %q: want host:port", ErrMalformed, addr)
	}
	host, port := addr[:i], addr[i+1:]
	if err := checkPort(port); err != nil {
		return fmt.Errorf("%w: address %q: %v", ErrMalformed, addr, err)
	}
	if err := checkHost(host); err != nil {
		return fmt.Errorf("%w: address %q: %v", ErrMalformed, addr, err)
	}
	return nil
}

// checkPort checks a port's one spelling: decimal digits with no sign
// and no leading zero (so "080" and "80" cannot name one port twice),
// 1 to 65535 (0 is "any port", which no one can dial).
func checkPort(port string) error {
	if port == "" || len(port) > 5 || port[0] == '0' {
		return errors.New("port: want 1 to 65535, no leading zero")
	}
	n := 0
	for i := 0; i < len(port); i++ {
		c := port[i]
		if c < '0' || c > '9' {
			return errors.New("port: not a decimal number")
		}
		n = n*10 + int(c-'0')
	}
	if n > 65535 {
		return errors.New("port: above 65535")
	}
	return nil
}

// checkHost checks a host: a bracketed IPv6 address in netip's spelling,
// or a name or IPv4 address of the characters DNS allows. Names are not
// resolved or lower-cased here: the address is only a hint for the
// transport, and the key, not the name, says who the peer is.
func checkHost(host string) error {
	if host == "" {
		return errors.New("no host")
	}
	if host[0] == '[' {
		inner, ok := strings.CutSuffix(host[1:], "]")
		if !ok {
			return errors.New("host: '[' without ']'")
		}
		ip, err := netip.ParseAddr(inner)
		// One spelling: the address as netip writes it (lower case,
		// shortest form), and only IPv6 in brackets.
		if err != nil || !ip.Is6() || ip.Zone() != "" || ip.Is4In6() || ip.String() != inner {
			return errors.New("host: not an IPv6 address in its canonical form")
		}
		return nil
	}
	// A DNS name's longest text form.
	if len(host) > 253 {
		return errors.New("host: longer than 253 characters")
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '.' {
			return fmt.Errorf("host: character %d is not a letter, digit, '-' or '.'", i)
		}
	}
	return nil
}

// OID derives the object id of the n-th URL a kernel issues from its
// secret: the first 128 bits of HMAC-SHA256(secret, "ocap-url" || n as 8
// big-endian bytes), in hex. Deterministic (the kernel has no randomness:
// a crank replayed gives the same id), distinct for distinct n with
// overwhelming probability, and unguessable without the secret: knowing
// every other id a kernel issued tells nothing of the next, since HMAC is
// a pseudo-random function.
func OID(secret []byte, n uint64) string {
	// The label keeps these MACs apart from any other use a host may make
	// of the same secret; the counter is fixed-width, so no two (label,
	// n) pairs give the same input.
	mac := hmac.New(sha256.New, secret)
	var msg [16]byte
	copy(msg[:8], "ocap-url")
	binary.BigEndian.PutUint64(msg[8:], n)
	mac.Write(msg[:])
	return hex.EncodeToString(mac.Sum(nil)[:OIDLen/2])
}

// NewSecret makes a fresh secret for OID, from crypto/rand: what a host
// gives a kernel once (kernel.Kernel.SetURLSecret), which keeps it.
func NewSecret() ([]byte, error) {
	// Outside the kernel, so randomness is allowed here; the kernel only
	// keeps what the host hands it.
	b := make([]byte, SecretLen)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("ocapurl: secret: %w", err)
	}
	return b, nil
}
