package marshal

import (
	"errors"
	"fmt"
)

// DefaultMaxDepth bounds how deeply arrays, records, tagged values and
// errors may nest, in both directions.
const DefaultMaxDepth = 64

// ErrMalformed is wrapped by every decoding and validation error: the body
// is not valid smallcaps, names a slot that does not exist, or nests too
// deeply; or (Validate) a slot is never named by the body.
var ErrMalformed = errors.New("marshal: malformed capdata")

// ErrUnpassable is wrapped by every encoding error: the value (or a part of
// it) has no smallcaps form.
var ErrUnpassable = errors.New("marshal: value cannot be passed")

// Codec marshals values to CapData and back. The zero value encodes Refs as
// references and decodes references to Refs.
type Codec struct {
	// SlotOf turns a Go value that passes by reference (an object or a
	// promise of the vat's) into its Ref. It is asked for every value the
	// codec does not know; ok=false means the value is not passable. nil
	// means only Ref values pass by reference.
	SlotOf func(v any) (r Ref, ok bool, err error)
	// ValueOf turns a reference into the Go value that stands for it. nil
	// means references decode to Refs.
	ValueOf func(r Ref) (any, error)
	// MaxDepth bounds nesting; 0 means DefaultMaxDepth.
	MaxDepth int
}

func (c *Codec) maxDepth() int {
	if c.MaxDepth > 0 {
		return c.MaxDepth
	}
	return DefaultMaxDepth
}

// Encode marshals v with the zero Codec.
func Encode(v any) (CapData, error) { return (&Codec{}).Encode(v) }

// Decode unmarshals c with the zero Codec.
func Decode(c CapData) (any, error) { return (&Codec{}).Decode(c) }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

func unpassable(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnpassable}, args...)...)
}
