package kernel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// Idempotency keys make a host's send exactly-once across lost replies: a
// client that does not know whether its send took effect (the connection
// broke, the process died) sends it again with the same key, and the
// kernel answers with the first send's result promise instead of queueing
// the message twice. The key is recorded in the unit that queues the
// message, so the record and the message commit together: after any
// crash, either both exist or neither does.
//
// A record holds its promise (one reference), so the result can be read
// however late the retry comes, until the key is forgotten: the kernel
// keeps the newest Config.MaxIdempotencyKeys keys, and forgets the oldest
// settled ones beyond that (an unsettled one is kept until it settles).

// MaxIdempotencyKeyLen bounds an idempotency key, in bytes: the kernel
// keeps up to Config.MaxIdempotencyKeys of them, so each must be small.
const MaxIdempotencyKeyLen = 256

// Errors for idempotent sends.
var (
	// ErrBadIdempotencyKey: the key is empty, too long, or not UTF-8.
	ErrBadIdempotencyKey = errors.New("kernel: bad idempotency key")
	// ErrIdempotencyKeyReused: the key was first sent with another
	// message (target, method or arguments differ).
	ErrIdempotencyKeyReused = errors.New("kernel: idempotency key already used for a different message")
)

// QueueMessageOnce is QueueMessage with an idempotency key. The first call
// with key queues the message and records key with its result promise; a
// later call with the same key and the same message queues nothing and
// returns the same promise with dup set (whether or not the promise has
// settled since: SettledOutput tells). The same key with another message
// is refused with ErrIdempotencyKeyReused.
func (k *Kernel) QueueMessageOnce(ctx context.Context, key string, target KRef, methargs marshal.CapData) (kpid KRef, dup bool, out []Output, err error) {
	if key == "" || len(key) > MaxIdempotencyKeyLen || !utf8.ValidString(key) {
		return "", false, nil, fmt.Errorf("%w: want 1 to %d bytes of UTF-8, got %d bytes", ErrBadIdempotencyKey, MaxIdempotencyKeyLen, len(key))
	}
	digest := messageDigest(target, methargs)
	// INVARIANT 12: a retry finds the record the first send committed, and
	// queues nothing; the lookup reads only, so a duplicate costs no unit
	// unless the host must be subscribed again.
	if row, ok := k.st.Idempotency(key); ok {
		// The same key for a different message is a client bug; answering
		// with the first message's result would hide it.
		if row.Digest != digest {
			return "", false, nil, ErrIdempotencyKeyReused
		}
		out, err := k.resubscribe(ctx, KRef(row.KPID))
		return KRef(row.KPID), true, out, err
	}
	if err := k.checkMessage(target, methargs); err != nil {
		return "", false, nil, err
	}
	// The message, the record and the forgetting of old keys are one unit:
	// the record exists exactly when the message was queued.
	out, err = k.hostUnit(ctx, func() error {
		kpid = k.queueFromHostLocked(target, methargs)
		k.incRef(kpid, true) // the record's hold
		k.st.PutIdempotency(key, persistence.IdempotencyRow{
			KPID: string(kpid), Digest: digest, Seq: k.st.NextID(persistence.MetaNextIdempotency)})
		k.forgetOldKeysLocked()
		return nil
	})
	if err != nil {
		return "", false, nil, err
	}
	return kpid, false, out, nil
}

// resubscribe makes sure the host hears when kpid settles: after a kernel
// restart the old process's subscription was let go (Resume), and a retry
// is the host asking again.
func (k *Kernel) resubscribe(ctx context.Context, kpid KRef) ([]Output, error) {
	// The record's hold keeps the promise, so it exists. Settled: the host
	// reads the result with SettledOutput. Already subscribed: the first
	// send's wait is still on, and a second hold would never be used up.
	p := k.mustPromise(kpid)
	if p.State != persistence.PromiseUnresolved || p.HostSubscribed {
		return nil, nil
	}
	return k.hostUnit(ctx, func() error {
		p := k.mustPromise(kpid)
		p.HostSubscribed = true
		p.RefCount++ // the host's hold, used up by the Output
		k.st.PutPromise(string(kpid), p)
		return nil
	})
}

// SettledOutput returns kpid's settlement as the Output the host would
// have been given, if it has settled; ok is false while it is unresolved
// or unknown. Objects its value names are not pinned again: the first
// settlement pinned them for the host.
func (k *Kernel) SettledOutput(kpid KRef) (Output, bool) {
	p, ok := k.st.Promise(string(kpid))
	if !ok || p.State == persistence.PromiseUnresolved {
		return Output{}, false
	}
	return Output{KPID: kpid, Rejected: p.State == persistence.PromiseRejected,
		Value: toCapData(p.Value).Clone(), ByKernel: p.SettledByKernel}, true
}

// forgetOldKeysLocked forgets the oldest settled keys once there are more
// than the limit, an eighth of the limit at a time, so the sort it needs
// is paid once per limit/8 keys.
func (k *Kernel) forgetOldKeysLocked() {
	limit := k.limit.idempotencyKeys
	if k.st.IdempotencyCount() <= limit+limit/8 {
		return
	}
	excess := k.st.IdempotencyCount() - limit
	// Oldest first (IdempotencyKeys orders by Seq), skipping unsettled
	// ones, so the keys kept are the newest plus every one still pending.
	for _, key := range k.st.IdempotencyKeys() {
		if excess == 0 {
			return
		}
		row, _ := k.st.Idempotency(key)
		if p, ok := k.st.Promise(row.KPID); ok && p.State == persistence.PromiseUnresolved {
			continue // a retry may still be waiting for it
		}
		k.st.DeleteIdempotency(key)
		k.decRef(KRef(row.KPID), true)
		excess--
	}
}

// messageDigest identifies what a host sent: a retry with the same key
// must send the same target and methargs. The zero bytes separate the
// fields (a valid kref, body or slot holds none), so two different messages
// cannot run together into one byte string. SHA-256 keeps the record the
// same size whatever the message's size.
func messageDigest(target KRef, methargs marshal.CapData) string {
	h := sha256.New()
	h.Write([]byte(target))
	h.Write([]byte{0})
	h.Write([]byte(methargs.Body))
	for _, s := range methargs.Slots {
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}
