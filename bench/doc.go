// Package bench holds the workloads of the `kernel-actors bench` command
// and the floors it measures them against, so that the command and `go
// test -bench` run the same code.
//
// Each workload runs on a real kernel (actors.Start) with Go vats of this
// package's own registry (Registry), or JavaScript vats for "js":
//
//   - pingpong: alice awaits E(bob).ping(i) N times (two cranks a message);
//   - fanout: alice sends N pings without awaiting, then awaits them all;
//   - external: the host's QueueMessage to bob, N times in a row;
//   - pipeline: N sends in chains of K, each sent to the promise of the one
//     before, every chain sent before any is awaited;
//   - manyvats: a token passed N times around a ring of M vats;
//   - bigstore: ping-pong while the kernel holds Objects live objects;
//   - bigcrank: one crank that exports Objects objects, which are then
//     dropped and collected, then ping-pong;
//   - js: ping-pong between two JavaScript vats (package jsvat).
//
// A run (Run) starts a fresh kernel for each repetition, warms it up,
// times N messages and reports a Result: rates, crank latencies (through
// actors.Config.OnCrank), allocations, heap and RSS. The floors (Floors)
// are measured in the same process: a bare protoactor-go request/response
// between two actors, and a bare SQLite transaction of the rows a
// ping-pong crank writes (recorded through actors.Config.StoreTrace). Only
// ratios to floors measured in the same run compare across days: the
// machine's speed drifts.
//
// The package reads the clock and the process's memory statistics; it
// makes no kernel decisions and touches no state but its own kernels'.
package bench
