package vat

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// The kernel refuses a vatstore key or value over its limits, and
// valid-UTF-8-ness, as an illegal syscall: the vat is terminated. That is
// right for a raw vat that breaks the protocol, wrong for vat code that was
// handed a large string by a caller (Baggage.Set documents "fails,
// changing nothing"). So liveslots, told the kernel's limits at startVat
// (vatproto.Delivery.Limits), checks every write it makes on vat code's
// behalf first, and returns ErrVatstoreLimit to vat code instead. Reads of
// a key that could never have been written answer "not found" without
// asking the kernel, for the same reason.

// ErrVatstoreLimit is wrapped by the error a durable write returns
// (Baggage.Set, State.Set, Kind.New, Context.DefineKind) when its key or
// value is over the kernel's vatstore limit, or its key is not valid
// UTF-8. Nothing was written; the vat goes on.
var ErrVatstoreLimit = errors.New("vat: over the kernel's vatstore limit")

// checkKey reports why the kernel would refuse key, if it would.
func (inst *Instance) checkKey(key string) error {
	if max := inst.limits.MaxVatstoreKey; max > 0 && len(key) > max {
		return fmt.Errorf("%w: key of %d bytes (at most %d)", ErrVatstoreLimit, len(key), max)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: key is not valid UTF-8", ErrVatstoreLimit)
	}
	return nil
}

// checkValue reports why the kernel would refuse value, if it would. (The
// values liveslots writes are JSON it made, so always valid UTF-8.)
func (inst *Instance) checkValue(value string) error {
	if max := inst.limits.MaxVatstoreValue; max > 0 && len(value) > max {
		return fmt.Errorf("%w: value of %d bytes (at most %d)", ErrVatstoreLimit, len(value), max)
	}
	return nil
}

// readable reports whether key could be in the vatstore at all; if not,
// a read must not ask the kernel (which would refuse the syscall).
func (inst *Instance) readable(key string) bool { return inst.checkKey(key) == nil }

// durableSlotOf is the hook of the codec for durable values: it refuses
// what cannot outlive the incarnation before the vat's codec would export
// it. (Exporting a promise there, only to refuse the value, would leave the
// vat deciding a promise the kernel never heard of: its settlement, later,
// would be an illegal resolve.)
func (inst *Instance) durableSlotOf(v any) (marshal.Ref, bool, error) {
	switch x := v.(type) {
	case *Promise:
		return marshal.Ref{}, false, fmt.Errorf("vat: a promise cannot be stored durably")
	case *Object:
		if x.kind == nil && x.vref != string(vatproto.RootVRef) {
			return marshal.Ref{}, false, fmt.Errorf("vat: an ephemeral (Far) object cannot be stored durably; use a durable kind")
		}
	}
	return inst.slotOf(v)
}
