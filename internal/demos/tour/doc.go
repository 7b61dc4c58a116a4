// Package tour is the default demo, `kernel-actors demo`: a newcomer's
// first minute with the kernel. It runs on the actor runtime (package
// actors) with vats written in Go (package vat), in memory unless told a
// database path, and narrates in plain lines: a subcluster of alice, bob,
// carol and a bank; a message round trip; promise pipelining; a vat crash
// whose crank is rolled back and which the vat's failure policy handles
// (restart for bob, terminate for carol); a revocation; and the final
// balances with the number of cranks.
//
// It owns the tour's vats (bundles "tour/alice", "tour/bob",
// "tour/bank") and its story. It must not reach into the kernel's state
// while the kernel runs: everything it shows, it learns through the
// embedding API, as any host would.
package tour
