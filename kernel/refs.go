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
type KRef string

// VRef is a reference in one vat's space (see vatproto.VRef).
type VRef = vatproto.VRef

// VatID names a vat: "vN".
type VatID string

// SubclusterID names a subcluster: "sN".
type SubclusterID string

// ErrBadRef is returned (wrapped) for a malformed kref, vref or vat id.
var ErrBadRef = errors.New("malformed reference")

// IsObject reports whether r names a kernel object.
func (r KRef) IsObject() bool { return strings.HasPrefix(string(r), "ko") }

// IsPromise reports whether r names a kernel promise.
func (r KRef) IsPromise() bool { return strings.HasPrefix(string(r), "kp") }

func objectKRef(n uint64) KRef  { return KRef("ko" + strconv.FormatUint(n, 10)) }
func promiseKRef(n uint64) KRef { return KRef("kp" + strconv.FormatUint(n, 10)) }

// ParseKRef checks that s is a well-formed kref.
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
// more than 18 digits, so every id has exactly one spelling.
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

// vrefInfo is a parsed vref.
type vrefInfo struct {
	promise bool // p±N rather than o±N
	export  bool // allocated by the vat (+) rather than the kernel (-)
}

// parseVRef checks that s is a well-formed vref and says what it names.
func parseVRef(s VRef) (vrefInfo, error) {
	str := string(s)
	if len(str) < 3 || (str[0] != 'o' && str[0] != 'p') || (str[1] != '+' && str[1] != '-') {
		return vrefInfo{}, fmt.Errorf("%w: vref %q: want o+N, o-N, p+N or p-N", ErrBadRef, str)
	}
	info := vrefInfo{promise: str[0] == 'p', export: str[1] == '+'}
	rest := str[2:]
	if _, err := parseNumber(rest); err == nil {
		return info, nil
	}
	// Liveslots' virtual/durable object exports: o+vK/I or o+dK/I, with an
	// optional facet :F.
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

// ParseVRef checks that s is a well-formed vref.
func ParseVRef(s string) (VRef, error) {
	if _, err := parseVRef(VRef(s)); err != nil {
		return "", err
	}
	return VRef(s), nil
}

func importVRef(promise bool, n uint64) VRef {
	if promise {
		return VRef("p-" + strconv.FormatUint(n, 10))
	}
	return VRef("o-" + strconv.FormatUint(n, 10))
}

// RootVRef is the vref of every vat's root object.
const RootVRef = vatproto.RootVRef
