package vat

import (
	"fmt"
	"sort"
	"sync"
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
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{bundles: map[string]BuildFunc{}} }

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
		return nil, fmt.Errorf("vat: no bundle named %q is registered (have %v)", name, r.namesLocked())
	}
	return b, nil
}

func (r *Registry) namesLocked() []string {
	names := make([]string, 0, len(r.bundles))
	for n := range r.bundles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
