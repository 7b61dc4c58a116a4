package main

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// The bundle names, prefixed with the demo's name (the binary lists
// every demo's bundles in one registry).
const (
	workerBundle  = "supervised/worker"
	counterBundle = "supervised/counter"
)

// register adds the demo's bundles to reg.
func register(reg *vat.Registry) {
	reg.MustRegister(workerBundle, buildWorker, vat.About{Summary: "squares numbers, panics on a negative one or on \"poison\", and keeps a durable tally",
		Methods: []string{"bootstrap(vats, services)", "work(n)", "tally()"}})
	reg.MustRegister(counterBundle, buildCounter, vat.About{Summary: "a counter kept in baggage, which outlives the process",
		Methods: []string{"bootstrap(vats, services)", "incr()", "get()"}})
}

// baggageInt reads an integer from baggage; a missing key is 0.
func baggageInt(vc *vat.Context, key string) int64 {
	v, ok := vc.Baggage.Get(key)
	if !ok {
		return 0
	}
	n, _ := marshal.Int(v)
	return n
}

// buildWorker is the worker: work(n) squares n and counts the job in a
// durable tally. It counts before it looks at the input, so that a job
// that then panics has already written to the vatstore: the count
// surviving or not is what shows whether the failed crank was rolled back.
func buildWorker(vc *vat.Context) (any, error) {
	return vat.Far("worker", vat.Methods{
		"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
		"work": func(c *vat.Call) (any, error) {
			tally := baggageInt(vc, "tally") + 1
			if err := vc.Baggage.Set("tally", tally); err != nil {
				return nil, err
			}
			// A panic, not an error: an error would only reject the
			// caller's promise and commit the crank; a panic fails the
			// delivery, which is what the restart policy is about.
			if s, ok := c.Arg(0).(string); ok && s == "poison" {
				panic("poisoned input")
			}
			n, err := marshal.Int(c.Arg(0))
			if err != nil {
				return nil, fmt.Errorf("work: want a number, got %v", c.Arg(0))
			}
			if n < 0 {
				panic(fmt.Sprintf("cannot work on %d", n))
			}
			return n * n, nil
		},
		"tally": func(c *vat.Call) (any, error) { return baggageInt(vc, "tally"), nil },
	}), nil
}

// buildCounter is the durable counter. Its count lives only in baggage,
// never in a Go variable, so every incarnation, in this process or the
// next, starts from what the last committed crank wrote.
func buildCounter(vc *vat.Context) (any, error) {
	return vat.Far("counter", vat.Methods{
		"bootstrap": func(c *vat.Call) (any, error) { return nil, nil },
		"incr": func(c *vat.Call) (any, error) {
			n := baggageInt(vc, "count") + 1
			return n, vc.Baggage.Set("count", n)
		},
		"get": func(c *vat.Call) (any, error) { return baggageInt(vc, "count"), nil },
	}), nil
}
