package vat

import (
	"fmt"
	"sort"
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
	return &Registry{bundles: map[string]BuildFunc{}, raw: map[string]func() RawVat{}}
}

// RegisterRaw adds a raw-protocol vat under name: make returns a new
// incarnation, which gets every delivery, startVat included.
func (r *Registry) RegisterRaw(name string, make func() RawVat) error {
	if name == "" || make == nil {
		return fmt.Errorf("vat: RegisterRaw: a bundle needs a name and a constructor")
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
func (r *Registry) Register(name string, build BuildFunc) error {
	if name == "" {
		return fmt.Errorf("vat: Register: empty bundle name")
	}
	if build == nil {
		return fmt.Errorf("vat: Register %q: nil build function", name)
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
	return nil
}

// MustRegister is Register for package initialisation and tests: it panics
// on error.
func (r *Registry) MustRegister(name string, build BuildFunc) {
	if err := r.Register(name, build); err != nil {
		panic(err)
	}
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
