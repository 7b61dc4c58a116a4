package main

import (
	"errors"
	"fmt"
	"slices"

	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// The demo's bundle names, prefixed with its name (see package demos).
const (
	bundleAlice = "caretaker/alice"
	bundleBob   = "caretaker/bob"
)

// msgRevoked is what a forwarder whose revoker was used rejects with: a
// vat's own error, which reaches a Go host as a *kernel.RejectionError
// carrying it (unlike the kernel's [KERNEL:OBJECT_REVOKED]).
const msgRevoked = "revoked"

// The keys of the records the vats return.
const (
	storyKey     = demos.StoryKey // for the host to tell (demos.Send)
	forwarderKey = "forwarder"
	revokerKey   = "revoker"
	sawKey       = "saw" // what Bob's use saw go wrong; absent if nothing did
	countKey     = "count"
	notesKey     = "notes"
)

// register adds the demo's bundles to reg. Like
// vat.Registry.MustRegister, it panics if a name is taken.
func register(reg *vat.Registry) {
	reg.MustRegister(bundleAlice, buildAlice, vat.About{Summary: "owns carol, a notes store, and shares it only through revocable forwarders",
		Methods: []string{"bootstrap(vats, services)", "share(holder, label)", "notes()"}})
	reg.MustRegister(bundleBob, buildBob, vat.About{Summary: "uses what he is given, and reports what came back",
		Methods: []string{"receive(label, forwarder)", "use(label, text)"}})
}

// newNotesStore returns the methods of Carol, Alice's service: a list of
// notes. They are plain Go functions that any object of Alice's vat can
// call: Carol is a method table, not an object of her own, because she
// never leaves the vat and vat.E reaches only objects that have (see
// go doc vat.E); her caretakers are what leave.
func newNotesStore() vat.Methods {
	var notes []any
	return vat.Methods{
		// add(text) appends a note and returns how many there are.
		"add": func(c *vat.Call) (any, error) {
			text, ok := c.Arg(0).(string)
			if !ok {
				return nil, fmt.Errorf("add: a note is a string, not %v", c.Arg(0))
			}
			notes = append(notes, text)
			return int64(len(notes)), nil
		},
		// list() returns the notes, oldest first.
		"list": func(c *vat.Call) (any, error) { return slices.Clone(notes), nil },
	}
}

// makeCaretaker makes a caretaker for target, named name: a forwarder that
// relays every message to target, and a revoker whose revoke() makes the
// forwarder reject every message from then on. Whoever holds the forwarder
// can use target exactly as long as whoever holds the revoker allows; the
// two are separate objects so that they can go to different holders
// (Miller, "Robust Composition", §9.3, the caretaker).
func makeCaretaker(name string, target vat.Methods) (forwarder, revoker *vat.Object) {
	revoked := false // shared by the pair alone
	forwarder = vat.Far(name+" forwarder", vat.Methods{
		// The catch-all: the forwarder has no other method, so this
		// answers every message, and call.Method says which.
		"": func(c *vat.Call) (any, error) {
			if revoked {
				return nil, errors.New(msgRevoked)
			}
			m, ok := target[c.Method]
			if !ok {
				// As the vat runtime answers an unknown method.
				return nil, &marshal.Error{Name: "TypeError", Message: fmt.Sprintf("%s has no method %q", name, c.Method)}
			}
			return m(c)
		},
	})
	revoker = vat.Far(name+" revoker", vat.Methods{
		"revoke": func(c *vat.Call) (any, error) {
			revoked = true
			return name + "'s forwarder is revoked", nil
		},
	})
	return forwarder, revoker
}

// buildAlice is Carol's owner. She hands out caretakers, never Carol.
func buildAlice(vc *vat.Context) (any, error) {
	carol := newNotesStore()
	return vat.Far("alice", vat.Methods{
		// The host drives the story, so bootstrap only says who is here.
		"bootstrap": func(c *vat.Call) (any, error) { return "alice owns carol, a notes store", nil },
		// share(holder, label) makes a caretaker for Carol, gives holder
		// its forwarder under label, and returns both halves to the caller
		// (the host, who plays Alice's owner and decides when to revoke).
		"share": func(c *vat.Call) (any, error) {
			holder := c.Arg(0)
			label, ok := c.Arg(1).(string)
			if !ok {
				return nil, fmt.Errorf("share: the label is a string, not %v", c.Arg(1))
			}
			forwarder, revoker := makeCaretaker("carol", carol)
			var s story
			s.add("caretaker/alice made a caretaker for carol: a forwarder and its revoker")
			got, err := vat.E(holder).Send("receive", label, forwarder).Await()
			if err != nil {
				return nil, err
			}
			s.add("caretaker/alice → the holder: receive(%q, forwarder) → %q", label, got)
			s.add("caretaker/alice returns the forwarder and the revoker to the host")
			return map[string]any{storyKey: []any(s), forwarderKey: forwarder, revokerKey: revoker}, nil
		},
		// notes() is Alice's own view of Carol: no caretaker between them.
		"notes": func(c *vat.Call) (any, error) { return carol["list"](c) },
	}), nil
}

// buildBob is the holder: he keeps the forwarders he is given by label and
// uses them, reporting what he saw rather than failing, so that the host
// hears about a refusal from inside a vat.
func buildBob(vc *vat.Context) (any, error) {
	held := map[string]any{}
	return vat.Far("bob", vat.Methods{
		"receive": func(c *vat.Call) (any, error) {
			label, ok := c.Arg(0).(string)
			if !ok {
				return nil, fmt.Errorf("receive: the label is a string, not %v", c.Arg(0))
			}
			held[label] = c.Arg(1)
			return "bob holds " + label, nil
		},
		// use(label, text) adds text through the forwarder held under
		// label and reads the notes back. The result has the story, and
		// either count and notes, or saw: the error message he got.
		"use": func(c *vat.Call) (any, error) {
			label, _ := c.Arg(0).(string)
			fwd, ok := held[label]
			if !ok {
				return nil, fmt.Errorf("use: bob holds nothing called %q", label)
			}
			text := c.Arg(1)
			var s story
			refused := func(what string, err error) (any, error) {
				s.add("caretaker/bob → %s: %s → rejected: %s", label, what, err.Error())
				return map[string]any{storyKey: []any(s), sawKey: err.Error()}, nil
			}
			n, err := vat.E(fwd).Send("add", text).Await()
			if err != nil {
				return refused(fmt.Sprintf("add(%q)", text), err)
			}
			s.add("caretaker/bob → %s: add(%q) → %v", label, text, n)
			notes, err := vat.E(fwd).Send("list").Await()
			if err != nil {
				return refused("list()", err)
			}
			s.add("caretaker/bob → %s: list() → %q", label, notes)
			return map[string]any{storyKey: []any(s), countKey: n, notesKey: notes}, nil
		},
	}), nil
}

// story is what a vat did while it handled one message, a line per step.
// Vat code runs inside the kernel and its only way out is its result, so
// it returns the lines (under storyKey) for the host to narrate.
type story []any

func (s *story) add(format string, args ...any) { *s = append(*s, fmt.Sprintf(format, args...)) }
