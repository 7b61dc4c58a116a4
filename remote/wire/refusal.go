package wire

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ocapgo/kernel-actors/remote/ocapurl"
)

// Refusal is an issuer's answer to a redeem from a kernel it never met
// that it will not take (docs/remote.md, "Introductions"): the oid is
// revoked or was never issued, or the issuer's limit of introduced
// peers is reached. It is not a message: it has no sequence number of
// its own, is never stored in an outbox, never acknowledged and never
// resent, because the issuer keeps no link, and so no state, for a
// stranger it refuses. It names the redeem it refuses (its seq in the
// redeemer's outbox and its oid, both the redeemer's own words sent
// back), so the redeemer can tell it from anything else, and why.
type Refusal struct {
	Seq    uint64        `json:"seq"`
	OID    string        `json:"oid"`
	Reason RefusalReason `json:"reason"`
}

// RefusalReason says why a redeem was refused.
type RefusalReason string

// The reasons of a refusal.
const (
	// RefusedUnknownOID: the issuer's sturdy-ref table has no such oid
	// (revoked, or never issued).
	RefusedUnknownOID RefusalReason = "unknown_oid"
	// RefusedLimit: the issuer took as many introductions as it allows
	// (its MaxIntroduced); the oid was not looked at.
	RefusedLimit RefusalReason = "limit"
)

// Encode is r's encoding: JSON, as a message's.
func (r Refusal) Encode() string {
	b, err := json.Marshal(r)
	if err != nil {
		// Only a number and strings: Marshal cannot fail.
		panic(fmt.Sprintf("wire: encode a refusal: %v", err))
	}
	return string(b)
}

// DecodeRefusal parses and checks one refusal, as strictly as Decode a
// message: unknown fields, a seq of 0, an oid that is not one, or a
// reason this build does not know are refused with ErrMalformed.
func DecodeRefusal(s string) (Refusal, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var r Refusal
	if err := dec.Decode(&r); err != nil {
		return Refusal{}, fmt.Errorf("%w: refusal: %v", ErrMalformed, err)
	}
	if dec.More() {
		return Refusal{}, fmt.Errorf("%w: data after the refusal", ErrMalformed)
	}
	if r.Seq == 0 {
		return Refusal{}, fmt.Errorf("%w: refusal of message 0", ErrMalformed)
	}
	if err := ocapurl.CheckOID(r.OID); err != nil {
		return Refusal{}, fmt.Errorf("%w: refusal: %v", ErrMalformed, err)
	}
	switch r.Reason {
	case RefusedUnknownOID, RefusedLimit:
	default:
		return Refusal{}, fmt.Errorf("%w: refusal: unknown reason %q", ErrMalformed, r.Reason)
	}
	return r, nil
}
