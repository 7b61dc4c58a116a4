// Package echovats is the benchmark workload of Go vats shared by the
// benchmarks at each layer (vat, actors), so
// that their figures measure the same thing: alice's run(n) awaits
// E(bob).echo(i) n times, two cranks per round trip.
package echovats
