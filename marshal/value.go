package marshal

import (
	"fmt"
	"math"
	"math/big"
)

// The Go mapping of passable values (see doc.go for the whole table).

// UndefinedType is the type of Undefined.
type UndefinedType struct{}

// Undefined is JavaScript's undefined ("#undefined").
var Undefined = UndefinedType{}

func (UndefinedType) String() string { return "undefined" }

// Ref is a value passed by reference: a remotable object ("$N.iface") or a
// promise ("&N"), named by its slot. Codecs without a slot converter
// decode references to Refs and encode Refs as references.
type Ref struct {
	Slot    string // the ref the slot holds: a kref in the kernel, a vref in a vat
	Iface   string // a remotable's interface, e.g. "Alleged: counter"; "" if none
	Promise bool   // a promise rather than a remotable
}

// Tagged is a tagged value ({"#tag": tag, "payload": payload}): copySets,
// copyBags and the like.
type Tagged struct {
	Tag     string
	Payload any
}

// Error is a passable error: a name and a message, never a stack.
type Error struct {
	Name    string // "Error", "TypeError", ...
	Message string
}

func (e *Error) Error() string {
	if e.Name == "" || e.Name == "Error" {
		return e.Message
	}
	return e.Name + ": " + e.Message
}

// Symbol is a passable symbol ("%name"), such as "@@asyncIterator".
type Symbol string

// maxSafeInteger is the largest integer a JavaScript number holds exactly.
const maxSafeInteger = 1<<53 - 1

// Int reads an integer out of a decoded number: an int64, or a float64
// with no fractional part and within ±2^53.
func Int(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case float64:
		if n == math.Trunc(n) && math.Abs(n) <= maxSafeInteger {
			return int64(n), nil
		}
		return 0, fmt.Errorf("marshal: %v is not a safe integer", n)
	case *big.Int:
		if n.IsInt64() {
			return n.Int64(), nil
		}
		return 0, fmt.Errorf("marshal: bigint %s does not fit in int64", n)
	}
	return 0, fmt.Errorf("marshal: %T is not a number", v)
}

// Float reads a number out of a decoded value.
func Float(v any) (float64, error) {
	switch n := v.(type) {
	case int64:
		return float64(n), nil
	case float64:
		return n, nil
	}
	return 0, fmt.Errorf("marshal: %T is not a number", v)
}
