// Package chaos holds the multi-process tests of kernels on many machines:
// three kernel processes, each on its own file store, joined by
// remote/transport over mutual TLS, while the test kills them with
// SIGKILL at random, restarts them (sometimes on a new port) and cuts and
// heals their network links.
//
// The package has no code of its own outside its tests. The test binary
// plays two parts: run by `go test` it is the conductor, which starts
// itself again once per kernel (a bank and two clients, the part named in
// the environment), relays their introductions over their stdin and
// stdout, and drives the chaos from a seed it prints; run as a kernel it
// is a bank whose vat records every deposit in its vatstore, or a client
// whose host sends numbered deposits to the bank's object with
// idempotency keys (kernel.QueueMessageOnce), so that a client restarted
// after a kill sends again, without doubling, what it cannot know was
// queued.
//
// TestChaosLoopback runs the kernels on 127.0.0.1; TestChaosNetns runs
// each in a network namespace of its own, joined by veth pairs to a
// bridge in a fourth namespace, and partitions a kernel by taking its
// bridge port down (iproute2; the test must run as root). After each run
// the conductor checks that every acknowledged deposit was taken exactly
// once and in order, that nothing was doubled, that every kernel's
// auditor is green, and that every outbox drained to zero. The flags
// -chaos.seed and -chaos.long replay a run and run the long form;
// docs/remote.md ("Tests") describes them.
package chaos
