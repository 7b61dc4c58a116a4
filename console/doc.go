// Package console is the kernel's live web console: the page `serve`
// answers at /ui (embedded files, no build step) and the hub behind its
// event stream.
//
// The hub samples a running kernel once an interval, and only while a
// stream is open: its counts, the head of its run queue, the flush
// durations (from a metric reader on the kernel's MeterProvider) and the
// per-vat crank counts the kernel feeds it after every crank
// (actors.Config.OnCrankDone). Each snapshot goes to every open stream
// through a one-slot buffer that keeps the newest, so a slow client
// misses snapshots and never slows the hub, which never waits on the
// kernel beyond its two between-crank reads.
//
// package control mounts the page and the stream (GET /v1/events,
// behind the bearer token) and the rest of what the page calls.
// docs/console.md describes the panels, the auth model and the stream's
// format and bounds.
package console
