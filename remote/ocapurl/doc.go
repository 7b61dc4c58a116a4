// Package ocapurl is the OCAP URL: a sturdy, unguessable reference to an
// object in a kernel, written
//
//	ocap:<object id>@<peer id>/<host:port>
//
// The object id (oid) is 128 bits in 32 lower-case hex digits. It names an
// entry of the issuing kernel's sturdy-ref table, which maps it to the
// object's kref: the kref itself never leaves the kernel, and an oid
// cannot be guessed from the oids a kernel issued before (OID derives it
// with HMAC-SHA256 from a secret only the issuer knows). The peer id is
// the issuer's identity as remote/identity defines it (the SHA-256 of its
// ed25519 public key, 64 lower-case hex digits): whoever redeems the URL
// pins that key for the link, so a URL cannot be redirected to another
// kernel. The host:port is a hint of where the issuer was listening; a
// kernel that moved is still the same kernel, its key says so.
//
// Parse is strict: each URL has one spelling, and an error says which
// part is wrong (wrapping ErrMalformed), without quoting the object id,
// which is the capability itself and must not end up in logs.
//
// The kernel's half (the table, issuing, redeeming and revoking, the
// redeem exchange between kernels) is package kernel's
// (kernel/remote_url*.go); docs/remote.md describes it.
package ocapurl
