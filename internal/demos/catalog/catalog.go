// Package catalog lists the bundled demos and builds the binary's vat
// registry from them: every demo's bundles, and the benchmark workload's,
// so that `kernel-actors run` and `serve` can launch any of them from a
// config file.
//
// It only lists; the demos' code lives in their own packages.
package catalog

import (
	"github.com/ocapgo/kernel-actors/internal/demos"
	"github.com/ocapgo/kernel-actors/internal/demos/bank"
	"github.com/ocapgo/kernel-actors/internal/demos/tour"
	"github.com/ocapgo/kernel-actors/internal/echovats"
	"github.com/ocapgo/kernel-actors/vat"
)

// Default is the demo `kernel-actors demo` runs when given no name.
const Default = "tour"

// Demos returns the bundled demos, the default first.
func Demos() []demos.Demo {
	return []demos.Demo{tour.Demo(), bank.Demo()}
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
	return reg
}
