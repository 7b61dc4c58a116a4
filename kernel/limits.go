package kernel

import (
	"errors"
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// What a vat hands the kernel, and how much of it (invariant 14,
// docs/invariants.md): no vat can harm another through it. Two kinds of
// check, both made at the syscall, both the sending vat's fault:
//
//   - every CapData (a send's methargs, each resolution's data, exit info)
//     is validated once, before any of its slots is translated, so an
//     illegal syscall has changed nothing when it is refused, and a
//     receiver never meets a body it cannot decode;
//   - one delivery may make only so many sends and syscalls, and hand the
//     kernel only so many bytes, so that one vat cannot fill the run queue
//     or the crank's memory and hold every other vat up behind it.
//
// Crossing either is an illegal syscall: the delivery is rolled back (its
// sends are gone) and the vat terminated with VAT_FATAL:ILLEGAL_SYSCALL
// (or restarted, under the restart policy).
// The detail, in the log, names what was wrong or which limit and setting.
// docs/limits.md is the user's view of all this.

// Defaults of the per-delivery limits, chosen well above what a heavy but
// legitimate delivery does (BENCHMARKS.md, "Per-delivery limits", has the
// cost of one that reaches them) and well below what floods the kernel.
const (
	// DefaultMaxDeliverySends bounds the sends of one delivery.
	DefaultMaxDeliverySends = 10_000
	// DefaultMaxDeliverySyscalls bounds the syscalls of one delivery, of
	// every kind (a vat walking its vatstore makes one per key).
	DefaultMaxDeliverySyscalls = 1_000_000
	// DefaultMaxDeliveryBytes bounds the bytes one delivery hands the
	// kernel: bodies, slots, refs, vatstore keys and values. It leaves
	// room for a few vatstore values of the largest default size.
	DefaultMaxDeliveryBytes = 64 << 20
	// DefaultMaxVatstoreKey and DefaultMaxVatstoreValue bound one vatstore
	// entry, in bytes.
	DefaultMaxVatstoreKey   = 4 << 10
	DefaultMaxVatstoreValue = 16 << 20
	// DefaultMaxIdempotencyKeys is how many idempotency keys the kernel
	// keeps by default (Config.MaxIdempotencyKeys).
	DefaultMaxIdempotencyKeys = 10_000
)

// NoLimit, as a per-delivery limit in Config, turns that limit off.
const NoLimit = -1

// ErrBadMessage is returned by QueueMessage for methargs that are not a
// valid message ([method, args] in smallcaps, every slot named by the
// body). It wraps the marshal error that says what is wrong (so
// errors.Is(err, marshal.ErrMalformed) holds too), and nothing is created.
var ErrBadMessage = errors.New("kernel: malformed message")

// limits are a kernel's limits, from its Config. A per-delivery limit of 0
// or less is off.
type limits struct {
	key, value             int
	sends, syscalls, bytes int
	idempotencyKeys        int
}

// checkLimit validates one per-delivery limit of Config, filling in its
// default.
func checkLimit(field string, v *int, def int) error {
	switch {
	case *v == 0:
		*v = def
	case *v < 0 && *v != NoLimit:
		return fmt.Errorf("%w: Config.%s: %d: want a positive number, 0 for the default (%d) or kernel.NoLimit (%d)",
			ErrBadConfig, field, *v, def, NoLimit)
	}
	return nil
}

// charge counts syscall s against the delivery's limits before it is
// handled, and reports the first limit it crosses as an illegal-syscall
// detail. Counts only go up, and a refused delivery stays refused
// (invariant 5), so a limit once crossed cannot be uncrossed.
func (d *delivery) charge(s Syscall) error {
	lim := &d.k.limit
	d.syscalls++
	if lim.syscalls > 0 && d.syscalls > lim.syscalls {
		return errIllegal("delivery made more than %d syscalls (limit Config.MaxDeliverySyscalls = %d)", lim.syscalls, lim.syscalls)
	}
	if s.Kind == SyscallSend {
		d.sends++
		if lim.sends > 0 && d.sends > lim.sends {
			return errIllegal("delivery made more than %d sends (limit Config.MaxDeliverySends = %d)", lim.sends, lim.sends)
		}
	}
	d.bytes += syscallBytes(s)
	if lim.bytes > 0 && d.bytes > int64(lim.bytes) {
		return errIllegal("delivery handed the kernel %d bytes, more than its limit (Config.MaxDeliveryBytes = %d)", d.bytes, lim.bytes)
	}
	return nil
}

// syscallBytes is how many bytes s hands the kernel: every string in it
// that the kernel keeps or reads (refs, bodies, slots, vatstore keys and
// values).
func syscallBytes(s Syscall) int64 {
	n := len(s.Target) + len(s.VPID) + len(s.Key) + len(s.Value) +
		dataBytes(s.Message.Methargs) + len(s.Message.Result) + dataBytes(s.Info)
	for _, r := range s.Resolutions {
		n += len(r.VPID) + dataBytes(r.Data)
	}
	for _, v := range s.VRefs {
		n += len(v)
	}
	return int64(n)
}

func dataBytes(c marshal.CapData) int {
	n := len(c.Body)
	for _, s := range c.Slots {
		n += len(s)
	}
	return n
}

// checkMethargs validates a send's methargs from a vat: smallcaps that a
// receiver can decode, shaped [method, args], every slot named.
func checkMethargs(m marshal.CapData) error {
	if err := marshal.ValidateMessage(m); err != nil {
		return errIllegal("send methargs: %v", err)
	}
	return nil
}

// checkData validates CapData from a vat (a resolution, exit info).
func checkData(what string, c marshal.CapData) error {
	if err := marshal.Validate(c); err != nil {
		return errIllegal("%s: %v", what, err)
	}
	return nil
}

// checkResolution validates one resolution's data from a vat (its detail
// is formatted only on failure: this is on every resolve).
func checkResolution(r VatResolution) error {
	if err := marshal.Validate(r.Data); err != nil {
		return errIllegal("resolution of %s: %v", r.VPID, err)
	}
	return nil
}

// vatLimits are the limits a vat's liveslots is told at startVat, so that
// it can refuse an over-limit write to vat code (an error the code can
// handle) rather than make the syscall that would doom the vat.
func (k *Kernel) vatLimits() vatproto.Limits {
	return vatproto.Limits{MaxVatstoreKey: k.limit.key, MaxVatstoreValue: k.limit.value}
}
