// Package demo is the narrated tour that `kernel-actors demo` runs: three
// small vats written against the raw vat protocol, driven crank by crank
// through the kernel state machine on the embedded in-memory store (or a
// file), showing a message round trip, promise pipelining, a vat crash
// rolled back and contained, and a revocation, with the auditor's verdict
// at the end.
//
// It is the binary's first minute, not a library: vats here are written by
// hand on the raw protocol, as a vat in another language would be.
package demo
