// Package remote holds what lets kernels on many machines talk: a peer
// kernel is an endpoint of the kernel beside its vats (package kernel's
// remote_*.go files keep its c-list, outbox and sequence numbers in the
// crank's unit); this tree holds the parts outside the kernel's state
// machine.
//
//   - remote/identity: the kernel's persistent ed25519 key, its peer id,
//     the self-signed certificate derived from it and the mutual-TLS
//     configs that pin a peer's key.
//   - remote/wire: the messages one kernel sends another, and their
//     encoding.
//   - remote/ocapurl: the OCAP URL (ocap:<oid>@<peer id>/<host:port>),
//     its strict parser, and the derivation of unguessable object ids.
//
// docs/remote.md describes the protocol and its guarantees.
package remote
