// Package wire defines what one kernel sends another: the messages a
// crank writes to a peer's outbox (deliver, notify, the three GC
// messages, and redeem, an OCAP URL's redemption), the remote refs they
// name (ro±N, rp±N), and their encoding; and Refusal, an issuer's
// stateless answer to a stranger's redeem it will not take, which is not
// a message (no seq of its own, never in an outbox). It is a leaf package: the kernel writes and reads these
// messages inside its units, and the transport carries their bytes
// without looking inside.
//
// Refs in a message are written in the receiver's frame: "+" means
// allocated by the sender, as the receiver sees it. A sender flips the
// sign of its own c-list's refs (Ref.Flip) as it writes them.
// docs/remote.md has the protocol.
//
// Decode is strict: a message that is not exactly one of the shapes below
// (unknown fields, a missing target, a ref that does not parse) is
// refused with ErrMalformed, naming what is wrong, so that a broken or
// hostile peer cannot make the kernel guess.
package wire
