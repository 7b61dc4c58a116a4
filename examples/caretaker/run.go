package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/demos"
	"github.com/ocapgo/kernel-actors/kernel"
)

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
