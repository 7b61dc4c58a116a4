package wire

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrMalformed is returned (wrapped, with what is wrong) for a message or
// ref that does not parse.
var ErrMalformed = errors.New("wire: malformed remote message")

// Ref is a parsed remote ref: ro+N, ro-N, rp+N or rp-N.
type Ref struct {
	Promise bool   // rp rather than ro
	Plus    bool   // allocated by the endpoint whose frame it is written in
	N       uint64 // from 1
}

// ParseRef parses a remote ref, in the one spelling each has (no leading
// zeros, no sign on N, N at least 1 and at most 18 digits).
func ParseRef(s string) (Ref, error) {
	if len(s) < 4 || s[0] != 'r' || (s[1] != 'o' && s[1] != 'p') || (s[2] != '+' && s[2] != '-') {
		return Ref{}, fmt.Errorf("%w: ref %q: want ro+N, ro-N, rp+N or rp-N", ErrMalformed, s)
	}
	digits := s[3:]
	if len(digits) > 18 || (len(digits) > 1 && digits[0] == '0') || digits == "0" {
		return Ref{}, fmt.Errorf("%w: ref %q: bad number", ErrMalformed, s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return Ref{}, fmt.Errorf("%w: ref %q: bad number", ErrMalformed, s)
		}
	}
	n, _ := strconv.ParseUint(digits, 10, 64) // 18 digits always fit
	return Ref{Promise: s[1] == 'p', Plus: s[2] == '+', N: n}, nil
}

// String spells r.
func (r Ref) String() string {
	b := make([]byte, 0, 24)
	b = append(b, 'r')
	if r.Promise {
		b = append(b, 'p')
	} else {
		b = append(b, 'o')
	}
	if r.Plus {
		b = append(b, '+')
	} else {
		b = append(b, '-')
	}
	return string(strconv.AppendUint(b, r.N, 10))
}

// Flip is r as the other end of the link names it: the sign says who
// allocated the ref as seen from the frame's owner, so it changes with
// the frame and nothing else does.
func (r Ref) Flip() Ref { r.Plus = !r.Plus; return r }

// FlipString flips a ref known to be well formed (one from the kernel's
// own c-list); a malformed one is returned unchanged and will be refused
// by the receiver's Decode.
func FlipString(s string) string {
	r, err := ParseRef(s)
	if err != nil {
		return s
	}
	return r.Flip().String()
}
