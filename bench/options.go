package bench

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/ocapgo/kernel-actors/jsvat"
)

// Stores and commit policies a run can use.
const (
	StoreMemory   = "memory" // the in-memory store (DBPath "")
	StoreFile     = "file"   // a SQLite file in a temporary directory, removed after
	CommitDurable = "durable"
	CommitGroup   = "group"
)

// Defaults of Options' zero values.
const (
	DefaultN    = 1000
	DefaultReps = 1
	// DefaultK is pipeline's chain length.
	DefaultK = 10
	// DefaultVats is manyvats' ring size.
	DefaultVats = 10
	// DefaultObjects is bigstore's live objects; bigcrank's one crank
	// makes DefaultBigCrankObjects.
	DefaultObjects         = 10_000
	DefaultBigCrankObjects = 100_000
)

// Options configure a Run. Zero values take the defaults above, except
// Warmup, whose zero means no warm-up.
type Options struct {
	// Workload is one of Workloads().
	Workload string
	// N is the messages timed in each repetition.
	N int
	// Store is StoreMemory ("" too) or StoreFile.
	Store string
	// Commit is CommitDurable ("" too) or CommitGroup.
	Commit string
	// Warmup is the messages run before the timed ones, on the same
	// kernel, so that the timed ones do not pay for first-use costs.
	Warmup int
	// Reps is how many repetitions to run, each on a fresh kernel.
	Reps int
	// K is pipeline's chain length, Vats manyvats' ring size, Objects the
	// objects of bigstore (held) and bigcrank (made in one crank).
	K, Vats, Objects int
	// JS runs the js workload's vats; the caller closes it.
	JS *jsvat.Runtime
	// Dir is where the temporary directories of file stores and of the js
	// workload's vat go; "" is the system's temporary directory.
	Dir string
	// Cranks, if set, is incremented after every crank of every
	// repetition, set-up and warm-up included: for a progress display.
	Cranks *atomic.Uint64
	// Telemetry are the telemetry configurations to measure (Telemetries;
	// nil means off alone). With more than one, each repetition runs the
	// workload under each of them in turn, each on a fresh kernel, so
	// that Costs can pair runs made in the same minute.
	Telemetry []string
	// TraceSample is the fraction of host requests the traces
	// configurations sample (parent-based: the cranks a request causes
	// follow its decision); 0 means 1, every request.
	TraceSample float64
}

// ErrBadOptions is wrapped by the errors of options a run cannot take;
// the message names the field.
var ErrBadOptions = errors.New("bench: bad options")

// withDefaults returns o with its zero values filled in, or an error
// naming the first bad field.
func (o Options) withDefaults() (Options, error) {
	if _, err := lookup(o.Workload); err != nil {
		return o, err
	}
	bad := func(field string, v int, want string) error {
		return fmt.Errorf("%w: %s is %d; want %s", ErrBadOptions, field, v, want)
	}
	fill := func(field string, p *int, def int) error {
		switch {
		case *p == 0:
			*p = def
		case *p < 0:
			return bad(field, *p, "a positive number")
		}
		return nil
	}
	objects := DefaultObjects
	if o.Workload == "bigcrank" {
		objects = DefaultBigCrankObjects
	}
	for _, f := range []struct {
		name string
		p    *int
		def  int
	}{{"N", &o.N, DefaultN}, {"Reps", &o.Reps, DefaultReps}, {"K", &o.K, DefaultK}, {"Vats", &o.Vats, DefaultVats}, {"Objects", &o.Objects, objects}} {
		if err := fill(f.name, f.p, f.def); err != nil {
			return o, err
		}
	}
	if o.Warmup < 0 {
		return o, bad("Warmup", o.Warmup, "0 or more")
	}
	switch o.Store {
	case "":
		o.Store = StoreMemory
	case StoreMemory, StoreFile:
	default:
		return o, fmt.Errorf("%w: Store is %q; want %q or %q", ErrBadOptions, o.Store, StoreMemory, StoreFile)
	}
	switch o.Commit {
	case "":
		o.Commit = CommitDurable
	case CommitDurable, CommitGroup:
	default:
		return o, fmt.Errorf("%w: Commit is %q; want %q or %q", ErrBadOptions, o.Commit, CommitDurable, CommitGroup)
	}
	o.Telemetry = slices.Clone(o.Telemetry) // filled in below; the caller's stays as it was
	if err := o.checkTelemetry(); err != nil {
		return o, err
	}
	return o, nil
}
