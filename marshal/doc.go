// Package marshal is CapData and the smallcaps codec: values cross the
// kernel as a body (smallcaps: "#" then JSON) and the slots (refs) the
// body points into by index. Bodies match @endo/marshal's byte for byte
// (checked against vectors generated from the real library, see
// testdata/gen-vectors.mjs).
//
// The kernel sees only CapData: it translates slots between vat refs and
// kernel refs and leaves bodies alone (but for SingleRef, which tells
// whether a promise's value is one object, and the error bodies it makes
// with EncodeError). Vats (package vat) encode and decode values with a
// Codec whose hooks turn their objects, presences and promises into slots.
//
// The Go mapping:
//
//	JavaScript        Go (Encode accepts)                 Go (Decode returns)
//	null              nil                                 nil
//	boolean           bool                                bool
//	number            int*, uint* (within ±2^53), float*  int64 if whole and within ±2^53, else float64
//	NaN, ±Infinity    float64                             float64
//	bigint            *big.Int                            *big.Int
//	string            string                              string
//	undefined         Undefined                           Undefined
//	array             []any, any slice or array           []any
//	record            map[string]any, map[string]T        map[string]any
//	tagged            Tagged                              Tagged
//	error             *Error, any other error             *Error (name and message; never a stack)
//	symbol            Symbol                              Symbol
//	remotable         Ref{Slot, Iface}, or Codec.SlotOf   Ref, or Codec.ValueOf
//	promise           Ref{Slot, Promise: true}, ...       Ref, or Codec.ValueOf
//
// Decoding never panics: a malformed body, a slot index out of range, or
// nesting deeper than Codec.MaxDepth is an error wrapping ErrMalformed. A
// value with no smallcaps form is an error wrapping ErrUnpassable.
//
// Validate checks CapData without decoding it: it accepts exactly the
// bodies Decode accepts, and also refuses a slot the body never names
// (FuzzValidate holds the two to that). ValidateMessage adds the shape of
// a message's methargs, [method, args]. The kernel runs them on everything
// a vat hands it, so a vat that sends garbage is the one at fault, never
// the vat that would have decoded it. They make one pass and allocate
// nothing in the common case (BENCHMARKS.md has the figures against
// Decode).
//
// Decode, Validate, SingleRef and MethodName share one hand-written JSON
// scanner whose grammar is encoding/json's. Decode builds each value in
// the same pass (strings of a small body are slices of it, not copies),
// and FuzzDecodeReference holds it to the tree decoder over
// encoding/json.Decoder.Token that it replaced, kept in its test file.
//
// This package owns the wire format and must not import the kernel.
package marshal
