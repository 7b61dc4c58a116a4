// Package crashtest kills a real kernel process with SIGKILL, at every
// commit boundary and at random times, and proves after each kill that
// nothing the host was told is lost or doubled and that nothing was
// released before its commit (invariants 3 and 12, docs/invariants.md).
//
// The package is a test: its harness lives in the _test.go files. TestCrash
// re-executes the test binary as a child process. The child starts a
// kernel on a file database through actors.Start (commit policy durable or
// group, alternating by trial) and runs a seeded schedule over a cluster of
// small Go vats: host sends that apply an effect with a unique id to a
// durable ledger vat, directly, through a relay vat (vat to vat), through a
// pipelined send to a durable account, and across subclusters, bursts of
// concurrent sends, LaunchSubcluster, RestartVat, UpgradeVat, TerminateVat
// and TerminateSubcluster. Before each operation the child appends a
// "begin" line to a side ledger, and after the host got its answer an
// "ack" (or "fail") line, fsynced before it goes on.
//
// The child is killed in one of two ways. A flush kill: the child installs
// a persistence.FaultInjector (actors.Config.StoreFaults) that kills the
// process at the Nth flush, at one of the three commit boundaries (before
// BEGIN, before COMMIT, after COMMIT), that happens during one kind of
// operation, so kills land inside launches, restarts, upgrades and
// terminations as well as inside sends and inside the resume of Start. A
// time kill: the parent sends SIGKILL after a random delay.
//
// After every kill the parent checks, in order:
//
//  1. PRAGMA integrity_check is ok;
//  2. the store opens and kernel.Audit finds nothing;
//  3. in the file as the kill left it, every acknowledged effect is in its
//     ledger vat's durable state exactly once (an acknowledged effect that
//     is missing there was an output released before its commit), and no
//     effect is there twice;
//  4. actors.Start resumes the file and the kernel runs to idle;
//  5. the auditor is still green, no promise is left unresolved, every
//     acknowledged effect is still there exactly once and none is doubled;
//  6. every launch either completed once (its vats run, bootstrap ran
//     once, its result is readable, and matches what the host was told)
//     or left nothing; acknowledged terminations and upgrades hold.
//
// Every schedule and kill point comes from one seed, printed by the test;
// -crash.seed replays it and -crash.kills sets the number of kills (the
// short default runs in CI with go test ./...; the long form is
// -crash.kills 1000). Flush kills replay exactly; time kills land near
// where they did, as the machine's speed allows. See RELIABILITY.md.
package crashtest
