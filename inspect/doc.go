// Package inspect reads a kernel's store into a report a person can read
// (text) or a program can (JSON): subclusters, vats with their c-lists,
// objects with owner and counts, promises with state and decider, the run
// queue, GC work, and the auditor's verdict. The binary's `inspect`
// command and the control API's inspect endpoint use it.
//
// It only reads; it must never open a unit of work on the store.
package inspect
