// Package conformance runs JavaScript vats written as ocap-kernel's are
// (hardened JavaScript on liveslots: E, Far, makeExo, baggage, durable
// kinds, promise pipelining) on this kernel, through the public embedding
// API, and checks what ocap-kernel's integration tests
// (packages/kernel-test) check: the bootstrap results, the results the host
// gets, and the vats' own logs, which reach the kernel's log tagged with
// the vat.
//
// The package has no code of its own beyond this comment: the vats are
// the .js files under vats/, one ES module each, and the scenarios are the
// tests, one file per family of the reference's tests. docs/conformance.md
// maps each family to its test, and lists where this kernel's behaviour
// differs from the reference's on purpose.
//
// The tests need Node.js and the worker's npm dependencies, so they are
// behind the build tag jsvat; with the invariants tag as well, the
// kernel's auditor runs after every crank:
//
//	npm ci --prefix jsvat/worker
//	go test -race -tags invariants,jsvat ./jsvat/...
//
// Without the jsvat tag the package has no tests, and a machine with only
// Go and gcc builds and tests the module without Node.
package conformance
