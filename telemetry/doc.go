// Package telemetry turns what the kernel runtime does into OpenTelemetry
// metrics and traces: cranks, deliveries, flushes, syscalls, vat
// restarts and terminations, host requests, and the depth of the run
// queue. docs/observability.md lists every instrument and span attribute.
//
// It owns the instruments, their attribute sets and the label policy:
// attributes are work kinds, outcomes, reasons and vat ids, never a kref
// or vref (invariant 7 keeps those out of everything that leaves the
// kernel), and per-vat series exist only for the first
// MetricsOptions.VatSeries vats seen, so that ten thousand vats cannot
// blow up a metrics backend.
//
// It must not touch the kernel's state: every call comes from the kernel
// actor (package actors) with plain values it has already read, on the
// kernel actor's goroutine, except the observable gauges' callbacks,
// which a reader runs on its own goroutine and which therefore read only
// atomics the kernel actor published. The SDK's own work for counts and
// durations (attribute lookups, locked bucket updates) runs on a
// goroutine of the Metrics' own, the recorder, which the kernel actor
// hands a batch every few hundred cranks; a collection waits for the
// batches handed over before it began. It reads no clock of its own: the
// caller passes durations measured on its Clock.
//
// # Usage
//
// The runtime (actors.Start) does this when Config.MeterProvider is set:
//
//	m, err := telemetry.NewMetrics(cfg.MeterProvider, telemetry.MetricsOptions{VatSeries: n})
//	probe := &telemetry.FlushProbe{Inner: cfg.StoreFaults, Now: clock.Now, Metrics: m}
//	st, _ := sqlitestore.Open(ctx, path, persistence.Options{Faults: probe, ...})
//	probe.Stats = st.Stats
//	// per crank, on the kernel actor's goroutine:
//	m.Crank(vat, r.Work, r.Outcome, took)
//	m.Syscalls(&counter.Counts)
//	m.Publish(telemetry.Gauges{RunQueue: st.QueueLen(), ...})
//	// at Stop:
//	m.Close()
//
// The caller's duties:
//
//  1. Call every recording method from one goroutine at a time (the
//     kernel actor's); only the gauge callbacks run elsewhere.
//  2. Publish the gauges often enough for a scrape to see the current
//     state: the kernel actor does it when it goes idle and every few
//     hundred cranks while busy. Publish also hands the SDK the cranks
//     and syscalls counted since (Flush); call Flush once more at the
//     end.
//  3. Close the Metrics when the kernel stops: it records what is left,
//     ends the recorder's goroutine, and a long-lived MeterProvider stops
//     calling a dead kernel's gauges.
//
// With no MeterProvider the runtime makes no Metrics at all: a nil
// *Metrics is never called, and the crank path pays one comparison.
package telemetry
