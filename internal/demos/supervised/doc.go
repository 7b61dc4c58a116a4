// Package supervised is the "supervised" demo: vats that fail and come
// back. A worker vat under the restart policy panics on bad input; the
// caller of the failing message gets the error, the crank is rolled back
// (the worker's durable tally does not count the message), and the vat is
// restarted from its durable state after a backoff, as a new incarnation,
// and serves later messages. A vat that keeps failing is terminated once
// it exceeds its restart intensity, and every decision is in the vat log.
// Last, a durable counter, kept in baggage, continues across runs of the
// process on the same database, kill -9 included (examples/supervised's
// test kills the process mid-stream to show it).
//
// Its bundles are "supervised/worker" and "supervised/counter".
//
// It talks to the kernel only through package actors' API, as an
// embedding program would: it must not reach into the kernel state
// machine, the store, or the vat actors.
package supervised
