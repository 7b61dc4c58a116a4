package kernel

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ocapgo/kernel-actors/vatproto"
)

// KRef is a kernel-wide reference: "koN" names a kernel object, "kpN" a
// kernel promise (as MetaMask ocap-kernel does). Numbers start at 1 and are
// never reused.
//
// Never reused because krefs outlive their rows: the host keeps them, logs
// and old outputs name them, and an importer's c-list entry can name an
// object already retired. A reused number would silently make all of
// those name something else. The counters are in the store's meta table
// (persistence.MetaNextObject, MetaNextPromise), and the auditor checks
// that each is past every id in use (audit_ids.go).
type KRef string

// VRef is a reference in one vat's space (see vatproto.VRef).
type VRef = vatproto.VRef

// VatID names a vat: "vN". Like krefs, vat ids are never reused: a
// terminated vat keeps its row.
type VatID string

// SubclusterID names a subcluster: "sN". Not reused either, though a
// terminated subcluster's row is deleted.
type SubclusterID string

// ErrBadRef is returned (wrapped) for a malformed kref, vref or vat id.
// The wrapping error quotes the bad text, for the host that sent it; when
// a vat sent it, it is an illegal-syscall detail and goes only to the log.
var ErrBadRef = errors.New("malformed reference")

// IsObject reports whether r names a kernel object.
func (r KRef) IsObject() bool { return strings.HasPrefix(string(r), "ko") }

// IsPromise reports whether r names a kernel promise.
func (r KRef) IsPromise() bool { return strings.HasPrefix(string(r), "kp") }

// objectKRef and promiseKRef spell a counter's number as a kref, with
// strconv rather than fmt: a kref is made on nearly every crank.
func objectKRef(n uint64) KRef  { return KRef("ko" + strconv.FormatUint(n, 10)) }
func promiseKRef(n uint64) KRef { return KRef("kp" + strconv.FormatUint(n, 10)) }

// ParseKRef checks that s is a well-formed kref. The host's krefs come in
// through here (QueueMessage, Revoke, the control API), so the check is
// strict: one spelling per number, so that two strings never name one
// object.
func ParseKRef(s string) (KRef, error) {
	if len(s) < 3 || s[0] != 'k' || (s[1] != 'o' && s[1] != 'p') {
		return "", fmt.Errorf("%w: kref %q: want ko<N> or kp<N>", ErrBadRef, s)
	}
	if _, err := parseNumber(s[2:]); err != nil {
		return "", fmt.Errorf("%w: kref %q: %v", ErrBadRef, s, err)
	}
	return KRef(s), nil
}

// parseNumber parses a decimal id with no sign, no leading zeros and no
// more than 18 digits, so every id has exactly one spelling. Eighteen
// digits always fit a uint64 (2^64 is 20 digits), so ParseUint below
// cannot fail on range, and no counter will reach them.
func parseNumber(s string) (uint64, error) {
	if s == "" {
		return 0, errors.New("missing number")
	}
	if len(s) > 18 {
		return 0, errors.New("number too long")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("leading zero")
	}
	// Bytes, not runes: anything outside ASCII digits is refused, which
	// also keeps ParseUint from accepting a sign or an underscore.
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("unexpected %q", s[i])
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// ParseVatID checks that s is a well-formed vat id.
func ParseVatID(s string) (VatID, error) {
	if len(s) < 2 || s[0] != 'v' {
		return "", fmt.Errorf("%w: vat id %q: want v<N>", ErrBadRef, s)
	}
	if _, err := parseNumber(s[1:]); err != nil {
		return "", fmt.Errorf("%w: vat id %q: %v", ErrBadRef, s, err)
	}
	return VatID(s), nil
}

// vrefInfo is a parsed vref: what the kernel needs to know of one to
// translate it (clist.go) and count it (refcount.go). The rest of a
// vref's structure (a virtual object's kind and instance) is liveslots'
// business.
type vrefInfo struct {
	promise bool // p±N rather than o±N
	export  bool // allocated by the vat (+) rather than the kernel (-)
}

// parseVRef checks that s is a well-formed vref and says what it names.
// Every vref a vat hands the kernel is parsed here before it is looked up
// or stored (vrefToKRef), so a malformed one is the vat's illegal syscall.
func parseVRef(s VRef) (vrefInfo, error) {
	str := string(s)
	if len(str) < 3 || (str[0] != 'o' && str[0] != 'p') || (str[1] != '+' && str[1] != '-') {
		return vrefInfo{}, fmt.Errorf("%w: vref %q: want o+N, o-N, p+N or p-N", ErrBadRef, str)
	}
	info := vrefInfo{promise: str[0] == 'p', export: str[1] == '+'}
	rest := str[2:]
	// The plain form is nearly every vref; its number is checked, not
	// converted (nothing here needs its value).
	if isNumber(rest) {
		return info, nil
	}
	// Liveslots' virtual/durable object exports: o+vK/I or o+dK/I, with an
	// optional facet :F. Only exports take this form (the kernel numbers
	// imports plainly), and never promises. The d marks what survives an
	// incarnation (ephemeralExport, invariant 15).
	if info.promise || !info.export || (rest[0] != 'v' && rest[0] != 'd') {
		return vrefInfo{}, fmt.Errorf("%w: vref %q: bad number", ErrBadRef, str)
	}
	body, facet, hasFacet := strings.Cut(rest[1:], ":")
	kind, inst, ok := strings.Cut(body, "/")
	if !ok {
		return vrefInfo{}, fmt.Errorf("%w: vref %q: want o+%cK/I", ErrBadRef, str, rest[0])
	}
	for _, part := range []string{kind, inst} {
		if _, err := parseNumber(part); err != nil {
			return vrefInfo{}, fmt.Errorf("%w: vref %q: %v", ErrBadRef, str, err)
		}
	}
	if hasFacet {
		if _, err := parseNumber(facet); err != nil {
			return vrefInfo{}, fmt.Errorf("%w: vref %q: facet: %v", ErrBadRef, str, err)
		}
	}
	return info, nil
}

// storedVRefInfo says what a vref already in a c-list names, from its
// first two bytes. Only vrefs that passed parseVRef (a vat's, in
// vrefToKRef) or that the kernel spelled itself (importVRef) are ever
// stored, so the full parse would find nothing new, and the crank path
// reads entries on every translation. The auditor still parses every
// stored vref in full (audit.go).
func storedVRefInfo(v VRef) vrefInfo {
	s := string(v)
	// A remote's c-list holds remote refs (ro±N, rp±N): the same two
	// facts, one byte further on (remote_clist.go).
	if len(s) > 0 && s[0] == 'r' {
		s = s[1:]
	}
	// INVARIANT: stored vrefs are well formed; a short one is a kernel bug.
	if len(s) < 3 {
		bugf("malformed vref %q in a c-list", s)
	}
	return vrefInfo{promise: s[0] == 'p', export: s[1] == '+'}
}

// isNumber reports whether s is a number parseNumber accepts, without
// converting it.
func isNumber(s string) bool {
	if s == "" || len(s) > 18 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseVRef checks that s is a well-formed vref (for tools and tests that
// take vrefs as text).
func ParseVRef(s string) (VRef, error) {
	if _, err := parseVRef(VRef(s)); err != nil {
		return "", err
	}
	return VRef(s), nil
}

// importVRef spells the vref of a vat's nth import: o-N or p-N. The "-"
// side of a vat's space is the kernel's to allocate, so it never collides
// with what the vat allocates on the "+" side.
func importVRef(promise bool, n uint64) VRef {
	if promise {
		return VRef("p-" + strconv.FormatUint(n, 10))
	}
	return VRef("o-" + strconv.FormatUint(n, 10))
}

// RootVRef is the vref of every vat's root object: o+0, exported by the
// vat at launch and pinned by the kernel for the vat's life.
const RootVRef = vatproto.RootVRef
