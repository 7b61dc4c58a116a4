// Code generated from examples/caretaker by go generate ./internal/demos. DO NOT EDIT.

// Package caretaker is examples/caretaker (its files but main.go) as a package, for
// the binary's demo command. Edit the example, then run go generate.
package caretaker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// From examples/caretaker/run.go.

// Demo returns the caretaker demo: its bundles and its story.
func Demo() demos.Demo {
	return demos.Demo{
		Name:     "caretaker",
		Summary:  "revocable forwarding: a caretaker revoked by its owner's code, and a forwarder revoked by the kernel",
		Register: register,
		Run:      Run,
		// The story starts from an empty kernel: resuming an old one (its
		// own last run's vats, or another program's) would muddle it.
		Fresh: true,
	}
}

// The labels Bob keeps his two forwarders under.
const (
	firstLabel  = "notes"
	secondLabel = "notes-2"
)

// Run launches Alice and Bob on a fresh kernel and tells the story. It
// fails if the story does not go as told (a revoked forwarder that still
// works, a refusal with the wrong reason), so running it is also a check.
func Run(ctx context.Context, opts demos.Options) error {
	return demos.WithKernel(ctx, Demo(), opts, func(k *actors.Kernel) error {
		h := &host{ctx: ctx, k: k, n: opts.Narrator()}
		return h.tell()
	})
}

// host drives the story from outside the kernel, as an embedding program
// would: every step is a QueueMessage (or a Revoke), and every line it
// says is what was sent or what came back.
type host struct {
	ctx        context.Context
	k          *actors.Kernel
	n          demos.Narrator
	alice, bob kernel.KRef // the vats' root objects
	// pinned are the objects results named, which the host holds until it
	// releases them at the end (see actors.Kernel.Release).
	pinned []kernel.KRef
}

// caretakerRefs is one caretaker as the host holds it.
type caretakerRefs struct{ forwarder, revoker kernel.KRef }

func (h *host) tell() error {
	h.n.Section("caretaker: revocable forwarding")
	h.n.Say("Vats: caretaker/alice owns carol, a notes store that never leaves her vat; caretaker/bob")
	h.n.Say("reaches carol only through caretakers Alice makes. A caretaker is two objects: a forwarder")
	h.n.Say("that relays every message to carol (one catch-all method), and a revoker whose revoke()")
	h.n.Say("makes the forwarder refuse.")
	res, err := h.k.LaunchSubcluster(h.ctx, kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": {Bundle: bundleAlice}, "bob": {Bundle: bundleBob},
	}})
	if err != nil {
		return fmt.Errorf("caretaker: launch: %w", err)
	}
	h.alice, h.bob = res.Roots["alice"], res.Roots["bob"]
	h.n.Say("Launched subcluster %s; bootstrap: %v.", res.SubclusterID, res.BootstrapResult)

	h.n.Section("Alice shares carol with Bob")
	first, err := h.share(firstLabel)
	if err != nil {
		return err
	}
	for i, text := range []string{"buy milk", "call mum"} {
		if err := h.mustUse(firstLabel, text, int64(i+1)); err != nil {
			return err
		}
	}
	if err := h.revokeInVat(first); err != nil {
		return err
	}
	if err := h.revokeInKernel(); err != nil {
		return err
	}
	return h.afterwards()
}

// revokeInVat is form (a): the revoker makes the forwarder refuse. The
// forwarder still gets every message; Alice's code turns it away.
func (h *host) revokeInVat(first caretakerRefs) error {
	h.n.Section("(a) Revocation in Alice's vat: the caretaker pattern")
	v, err := h.send("carol's revoker: revoke()", first.revoker, "revoke")
	if err != nil {
		return err
	}
	h.n.Say("  → %q", v)
	if err := h.mustBeRefused(firstLabel, "water plants", func(saw string) bool { return saw == msgRevoked }); err != nil {
		return err
	}
	h.n.Say("The host holds the forwarder too, and sends to it directly:")
	_, err = h.send("carol's forwarder: list()", first.forwarder, "list")
	var re *kernel.RejectionError
	if !errors.As(err, &re) || re.Message != msgRevoked {
		return fmt.Errorf("caretaker: list() through a revoked caretaker gave %v, want the vat's %q", err, msgRevoked)
	}
	h.n.Say("  → rejected by Alice's code: %s (a *kernel.RejectionError, not a kernel code)", re.Message)
	if err := h.sayRevoked("carol's forwarder", first.forwarder, false); err != nil {
		return err
	}
	h.n.Say("The kernel knows nothing of this revocation: it delivers every message, and Alice's code refuses it.")
	return nil
}

// revokeInKernel is form (b): the host revokes a second forwarder in the
// kernel, which then refuses every message to it before any vat sees it.
// Alice's code is not asked, and the second revoker is never used.
func (h *host) revokeInKernel() error {
	h.n.Section("(b) Revocation by the kernel")
	second, err := h.share(secondLabel)
	if err != nil {
		return err
	}
	h.n.Say("A new caretaker works although the first is revoked: each has its own switch.")
	if err := h.mustUse(secondLabel, "water plants", 3); err != nil {
		return err
	}
	h.n.Say("host: Revoke(carol's second forwarder)")
	if err := h.k.Revoke(h.ctx, second.forwarder); err != nil {
		return fmt.Errorf("caretaker: revoke: %w", err)
	}
	if err := h.sayRevoked("carol's second forwarder", second.forwarder, true); err != nil {
		return err
	}
	if err := h.mustBeRefused(secondLabel, "feed the cat", func(saw string) bool {
		return strings.HasPrefix(saw, "[KERNEL:OBJECT_REVOKED]")
	}); err != nil {
		return err
	}
	h.n.Say("The host sends to it directly:")
	_, err = h.send("carol's second forwarder: list()", second.forwarder, "list")
	if !errors.Is(err, kernel.ErrObjectRevoked) {
		return fmt.Errorf("caretaker: list() to a forwarder the kernel revoked gave %v, want %v", err, kernel.ErrObjectRevoked)
	}
	h.n.Say("  → rejected: %v; errors.Is(err, kernel.ErrObjectRevoked) = true", err)
	return nil
}

// afterwards shows that neither revocation touched Carol, and lets go of
// what the host held.
func (h *host) afterwards() error {
	h.n.Section("Afterwards")
	v, err := h.send("caretaker/alice: notes()", h.alice, "notes")
	if err != nil {
		return err
	}
	want := []any{"buy milk", "call mum", "water plants"}
	if notes, _ := v.([]any); !slices.Equal(notes, want) {
		return fmt.Errorf("caretaker: carol holds %v, want %v", v, want)
	}
	h.n.Say("  → %q", v)
	h.n.Say("Carol was never touched: Alice reaches her directly, and she kept every note that got through.")
	h.n.Say("Bob saw %q from Alice's caretaker, and %q from the kernel.", msgRevoked, kernel.ErrObjectRevoked.Error())
	for _, ref := range h.pinned {
		if err := h.k.Release(h.ctx, ref); err != nil {
			return fmt.Errorf("caretaker: release: %w", err)
		}
	}
	return nil
}

// share has Alice make a caretaker for Carol and give its forwarder to
// Bob under label; the host keeps both halves.
func (h *host) share(label string) (caretakerRefs, error) {
	v, err := h.send(fmt.Sprintf("caretaker/alice: share(caretaker/bob, %q)", label), h.alice, "share", h.bob, label)
	if err != nil {
		return caretakerRefs{}, err
	}
	r, _ := v.(map[string]any)
	fwd, ok1 := r[forwarderKey].(kernel.KRef)
	rev, ok2 := r[revokerKey].(kernel.KRef)
	if !ok1 || !ok2 {
		return caretakerRefs{}, fmt.Errorf("caretaker: share returned %v, not a forwarder and a revoker", v)
	}
	h.pinned = append(h.pinned, fwd, rev)
	return caretakerRefs{forwarder: fwd, revoker: rev}, nil
}

// mustUse has Bob use the forwarder under label, which must work: carol
// then holds wantCount notes.
func (h *host) mustUse(label, text string, wantCount int64) error {
	r, err := h.use(label, text)
	if err != nil {
		return err
	}
	if saw, ok := r[sawKey]; ok {
		return fmt.Errorf("caretaker: bob's use of %s was refused (%v); it must work", label, saw)
	}
	if r[countKey] != wantCount {
		return fmt.Errorf("caretaker: bob's use of %s left %v notes, want %d", label, r[countKey], wantCount)
	}
	return nil
}

// mustBeRefused has Bob use the forwarder under label, which must be
// refused with a message ok accepts.
func (h *host) mustBeRefused(label, text string, ok func(saw string) bool) error {
	r, err := h.use(label, text)
	if err != nil {
		return err
	}
	saw, _ := r[sawKey].(string)
	if !ok(saw) {
		return fmt.Errorf("caretaker: bob's use of %s after revocation saw %q (%v)", label, saw, r)
	}
	h.n.Say("  Bob reports: %s", saw)
	return nil
}

func (h *host) use(label, text string) (map[string]any, error) {
	v, err := h.send(fmt.Sprintf("caretaker/bob: use(%q, %q)", label, text), h.bob, "use", label, text)
	if err != nil {
		return nil, err
	}
	r, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("caretaker: bob's use returned %v, not a report", v)
	}
	return r, nil
}

// sayRevoked tells, and checks, whether the kernel holds ref (called
// name) revoked.
func (h *host) sayRevoked(name string, ref kernel.KRef, want bool) error {
	got, err := h.k.IsRevoked(h.ctx, ref)
	if err != nil {
		return fmt.Errorf("caretaker: %w", err)
	}
	if got != want {
		return fmt.Errorf("caretaker: IsRevoked = %v, want %v", got, want)
	}
	h.n.Say("host: IsRevoked(%s) = %v", name, got)
	return nil
}

// send sends method(args...) to target, saying "host → what" and the
// story lines that come back. A rejection is returned as is.
func (h *host) send(what string, target kernel.KRef, method string, args ...any) (any, error) {
	return demos.Send(h.ctx, h.k, h.n, what, target, method, args...)
}

// From examples/caretaker/vats.go.

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
