// Package inspect reads a kernel's store into a report a person can read
// (text) or a program can (JSON): subclusters, vats with their c-lists,
// objects with owner and counts, promises with state and decider, the run
// queue, GC work, and the auditor's verdict. The binary's `inspect`
// command and the control API's inspect endpoint use it.
//
// It only reads; it must never open a unit of work on the store.
//
// Read takes a store its caller opened, and the binary opens it
// read-only: a person inspects a kernel's file because something looks
// wrong, often while the kernel still runs or after it crashed, and the
// look must not change what it looks at (no unit of work, no migration,
// no WAL checkpoint, no repair). For the same reason it never panics on
// what it finds: a damaged or tampered store is exactly the one worth
// inspecting, so every odd row is reported, not trusted and not fatal.
package inspect
