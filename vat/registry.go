package vat

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/ocapgo/kernel-actors/vatproto"
)

// BuildFunc builds a vat: it defines the vat's durable kinds, reads its
// baggage, and returns the root object (a Far object or a durable one). It
// runs at every incarnation's start, with vc describing the vat.
type BuildFunc func(vc *Context) (root any, err error)

// Registry maps bundle names to vat code, so that a kernel restarted on an
// existing database can rebuild its vats by name. It is safe for concurrent
// use; register everything before the kernel starts.
type Registry struct {
	mu      sync.Mutex
	bundles map[string]BuildFunc
	raw     map[string]func() RawVat
	about   map[string]About // only the bundles registered with one
}

// About describes a bundle for the people who launch it: what the
// binary's `bundles` command lists beside its name. It is optional, and
// only read by people: the kernel never looks at it.
type About struct {
	// Summary says in one line what the vat is for.
	Summary string
	// Methods are its root object's methods, each written as a call with
	// its parameters, such as "incr(n)" or "get()", in the order to list
	// them.
	Methods []string
}

// ErrBadAbout is wrapped by Register's error for a bundle description
// that cannot be listed as one: more than one, a summary over several
// lines, an empty method.
var ErrBadAbout = errors.New("vat: bad bundle description")

// checkAbout validates the descriptions given to a Register call for name.
func checkAbout(name string, about []About) (About, bool, error) {
	switch len(about) {
	case 0:
		return About{}, false, nil
	case 1:
	default:
		return About{}, false, fmt.Errorf("%w: %q: %d descriptions, want at most one", ErrBadAbout, name, len(about))
	}
	a := about[0]
	if strings.ContainsAny(a.Summary, "\r\n") {
		return About{}, false, fmt.Errorf("%w: %q: the summary is more than one line", ErrBadAbout, name)
	}
	for i, m := range a.Methods {
		if strings.TrimSpace(m) == "" || strings.ContainsAny(m, "\r\n") {
			return About{}, false, fmt.Errorf("%w: %q: method %d is empty or more than one line", ErrBadAbout, name, i)
		}
	}
	// A copy: the caller's slice is theirs to change.
	a.Methods = append([]string(nil), a.Methods...)
	return a, true, nil
}

// RawVat is a vat that speaks the raw vat protocol itself, without
// liveslots: a vat in another language behind an adapter, or a test vat.
// *Instance is one.
type RawVat interface {
	// Deliver handles one delivery; an error means the vat failed it.
	Deliver(d vatproto.Delivery, sys vatproto.Syscaller) error
	// Stop ends the incarnation.
	Stop()
}

var _ RawVat = (*Instance)(nil)

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{bundles: map[string]BuildFunc{}, raw: map[string]func() RawVat{}, about: map[string]About{}}
}

// RegisterRaw adds a raw-protocol vat under name: make returns a new
// incarnation, which gets every delivery, startVat included. about, at
// most one, describes it (see About).
func (r *Registry) RegisterRaw(name string, make func() RawVat, about ...About) error {
	if name == "" || make == nil {
		return fmt.Errorf("vat: RegisterRaw: a bundle needs a name and a constructor")
	}
	a, described, err := checkAbout(name, about)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.bundles[name]; dup {
		return fmt.Errorf("vat: RegisterRaw %q: already registered", name)
	}
	if _, dup := r.raw[name]; dup {
		return fmt.Errorf("vat: RegisterRaw %q: already registered", name)
	}
	r.raw[name] = make
	if described {
		r.about[name] = a
	}
	return nil
}

// LookupAny returns the vat code registered under name: a liveslots build
// function, or a raw vat constructor (exactly one is non-nil).
func (r *Registry) LookupAny(name string) (BuildFunc, func() RawVat, error) {
	r.mu.Lock()
	raw, ok := r.raw[name]
	r.mu.Unlock()
	if ok {
		return nil, raw, nil
	}
	b, err := r.Lookup(name)
	return b, nil, err
}

// Register adds vat code under name. A name can be registered once.
// about, at most one, describes the bundle for people (see About): a
// summary and the root's methods, which the binary's `bundles` lists.
func (r *Registry) Register(name string, build BuildFunc, about ...About) error {
	if name == "" {
		return fmt.Errorf("vat: Register: empty bundle name")
	}
	if build == nil {
		return fmt.Errorf("vat: Register %q: nil build function", name)
	}
	a, described, err := checkAbout(name, about)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.bundles[name]; dup {
		return fmt.Errorf("vat: Register %q: already registered", name)
	}
	if _, dup := r.raw[name]; dup {
		return fmt.Errorf("vat: Register %q: already registered", name)
	}
	r.bundles[name] = build
	if described {
		r.about[name] = a
	}
	return nil
}

// MustRegister is Register for package initialisation and tests: it panics
// on error.
func (r *Registry) MustRegister(name string, build BuildFunc, about ...About) {
	if err := r.Register(name, build, about...); err != nil {
		panic(err)
	}
}

// About returns the description name was registered with; ok is false if
// it has none (or no bundle has that name).
func (r *Registry) About(name string) (a About, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok = r.about[name]
	a.Methods = append([]string(nil), a.Methods...)
	return a, ok
}

// Lookup returns the vat code registered under name.
func (r *Registry) Lookup(name string) (BuildFunc, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.bundles[name]
	if !ok {
		if _, raw := r.raw[name]; raw {
			return nil, fmt.Errorf("vat: bundle %q is a raw vat, not a liveslots one", name)
		}
		return nil, fmt.Errorf("vat: no bundle named %q is registered (have %v)", name, r.namesLocked())
	}
	return b, nil
}

// Names lists the registered bundles, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.namesLocked()
}

func (r *Registry) namesLocked() []string {
	names := make([]string, 0, len(r.bundles)+len(r.raw))
	for n := range r.bundles {
		names = append(names, n)
	}
	for n := range r.raw {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
