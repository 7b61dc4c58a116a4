// Package catalog lists the bundled demos and builds the binary's vat
// registry from them: every demo's bundles, the benchmark workload's and
// the small general ones (std/counter), so that `kernel-actors run` and
// `serve` can launch any of them from a config file. cmd/kernel-actors
// hands that registry to package cli; the demo command lists Demos.
//
// It only lists; the demos' code is the examples' (examples/NAME, copied
// into internal/demos/NAME for the binary).
package catalog

import (
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/internal/demos/bank"
	"github.com/ocapgo/kernel-actors/internal/demos/caretaker"
	"github.com/ocapgo/kernel-actors/internal/demos/embed"
	"github.com/ocapgo/kernel-actors/internal/demos/supervised"
	"github.com/ocapgo/kernel-actors/internal/demos/tour"
	"github.com/ocapgo/kernel-actors/internal/echovats"
	"github.com/ocapgo/kernel-actors/internal/stdvats"
	"github.com/ocapgo/kernel-actors/vat"
)

// Default is the demo `kernel-actors demo` runs when given no name.
const Default = "tour"

// Demos returns the bundled demos, the default first.
func Demos() []demos.Demo {
	return []demos.Demo{tour.Demo(), bank.Demo(), caretaker.Demo(), supervised.Demo(), embed.Demo()}
}

// Find returns the demo called name.
func Find(name string) (demos.Demo, bool) {
	for _, d := range Demos() {
		if d.Name == name {
			return d, true
		}
	}
	return demos.Demo{}, false
}

// Registry returns a registry with every bundled vat.
func Registry() *vat.Registry {
	reg := vat.NewRegistry()
	for _, d := range Demos() {
		d.Register(reg)
	}
	echovats.Register(reg)
	stdvats.Register(reg)
	return reg
}
