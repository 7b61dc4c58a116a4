package marshal

import (
	"strconv"
	"strings"
)

// SingleRef reports whether the whole value c encodes is one remotable
// ("$N" or "$N.Alleged: iface") or one promise ("&N"), and if so which slot
// it names. The kernel uses it to decide whether a fulfilled promise
// designates an object (MetaMask ocap-kernel, extractSingleRef); it is
// the only look the kernel takes inside a body.
func SingleRef(c CapData) (slot string, promise bool, ok bool) {
	body, found := strings.CutPrefix(c.Body, smallcapsPrefix)
	if !found || len(body) < 4 || body[0] != '"' {
		return "", false, false
	}
	// The whole body must be one JSON string (trailing space allowed, as
	// encoding/json allows it), read with Decode's scanner.
	sc := validator{body: body}
	js, err := sc.scanString()
	if err != nil {
		return "", false, false
	}
	if sc.skipSpace(); sc.pos != len(body) {
		return "", false, false
	}
	s := js.unquote()
	if len(s) < 2 {
		return "", false, false
	}
	switch s[0] {
	case '$':
	case '&':
		promise = true
	default:
		return "", false, false
	}
	digits := s[1:]
	if i := strings.IndexByte(digits, '.'); i >= 0 {
		if promise {
			return "", false, false
		}
		digits = digits[:i]
	}
	idx, ok := slotIndex(digits)
	if !ok || idx >= len(c.Slots) || c.Slots[idx] == "" {
		return "", false, false
	}
	return c.Slots[idx], promise, true
}

// slotIndex reads a slot index as smallcaps writes it: decimal digits, no
// sign, no leading zero. Decode and SingleRef share it, so the kernel's
// look into a body never accepts what a vat's decoder refuses.
func slotIndex(digits string) (int, bool) {
	if digits == "" || len(digits) > 1 && digits[0] == '0' {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	idx, err := strconv.Atoi(digits)
	return idx, err == nil
}

// MethodName reads the method of a message body ["method", [args...]]
// without decoding the arguments, for logs.
func MethodName(c CapData) (string, bool) {
	body, found := strings.CutPrefix(c.Body, smallcapsPrefix)
	if !found {
		return "", false
	}
	sc := validator{body: body}
	if sc.skipSpace(); sc.peek() != '[' {
		return "", false
	}
	sc.pos++
	if sc.skipSpace(); sc.peek() != '"' {
		return "", false
	}
	js, err := sc.scanString()
	if err != nil {
		return "", false
	}
	s := js.unquote()
	if startsSpecial(s) {
		if s[0] != '!' {
			return "", false
		}
		s = s[1:]
	}
	return s, true
}
