package demos

import (
	"context"
	"fmt"
	"io"

	"github.com/rs/zerolog"

	"github.com/ocapgo/kernel-actors/vat"
)

// Options configure a demo run.
type Options struct {
	// Out receives the narrative; nil discards it.
	Out io.Writer
	// DBPath keeps the kernel's state in a SQLite file; "" is in memory.
	DBPath string
	// Logger receives the kernel's logs; the zero value logs nothing.
	Logger zerolog.Logger
}

// Narrator returns the narrator writing to o.Out.
func (o Options) Narrator() Narrator {
	if o.Out == nil {
		return Narrator{w: io.Discard}
	}
	return Narrator{w: o.Out}
}

// Narrator tells what a demo does, in plain lines.
type Narrator struct{ w io.Writer }

// Say prints one line.
func (n Narrator) Say(format string, args ...any) { fmt.Fprintf(n.w, format+"\n", args...) }

// Section starts a part of the story with a title line.
func (n Narrator) Section(title string) { fmt.Fprintf(n.w, "\n== %s ==\n", title) }

// Demo is one bundled demo.
type Demo struct {
	// Name is what `kernel-actors demo NAME` takes, and the bundle prefix.
	Name string
	// Summary is one line for listings.
	Summary string
	// Register adds the demo's vat bundles to a registry, so that the
	// binary's `run` and `serve` can launch them from a config file.
	Register func(reg *vat.Registry)
	// Run runs the demo, narrating to opts.Out.
	Run func(ctx context.Context, opts Options) error
	// Fresh says the story needs an empty kernel: StartKernel (and so
	// Run) refuses a DBPath that already holds vats, with ErrNotFresh.
	// A demo that resumes its own earlier runs (supervised's counter)
	// leaves it false.
	Fresh bool
}
