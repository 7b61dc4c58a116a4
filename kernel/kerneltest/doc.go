// Package kerneltest drives a kernel.Kernel synchronously, with scripted
// fake vats, for tests: no actors, no goroutines, no clock.
//
// A Driver owns a fresh in-memory (or given) store and kernel, launches
// subclusters whose vats are FakeVats, queues host messages, and runs
// cranks one at a time, running kernel.Audit after every crank and every
// host request and failing the test at the first problem. A FakeVat answers
// deliveries with Handlers: scripted syscalls (send, resolve, subscribe,
// drops, exit, vatstore) or faults (panic, illegal syscall).
//
// The datadriven handlers in datadriven*.go run scenario files such as
// kernel/testdata/*.txt; see RunScenario, which lists every command, and
// docs/scenarios.md.
//
// This package may import kernel, persistence and marshal; nothing but
// tests imports it.
package kerneltest
