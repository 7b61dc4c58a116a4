package vat

import (
	"errors"
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// ErrNoTarget is the error of a send to nothing: E(nil), or E of a nil
// *Presence, *Promise or *Object. The usual cause is a presence kept in a
// Go variable that bootstrap set: bootstrap is sent once, at launch, and
// a new incarnation of the vat (after a restart, an upgrade, or a kernel
// resumed from its file) starts with every Go variable at its zero value.
// A presence the vat needs after a restart lives in its baggage or in the
// state of a durable object, and is read back from there (see the
// package doc, "Surviving a restart"). Baggage.Get of a key that is not
// set returns nil too, so a send to a value it found missing ends here.
var ErrNoTarget = errors.New("vat: E(nil): the target is nil")

// noTargetHint is what ErrNoTarget's message goes on to say: what to do.
// It reaches the vat's caller in the rejection, so it names no vat, ref
// or variable of the vat's own.
const noTargetHint = "if it was a presence kept in a Go variable, it is gone: a new incarnation " +
	"(after a restart, an upgrade or a kernel resumed from its file) starts with fresh variables, and bootstrap is not sent again; " +
	"keep the presences a vat needs after a restart in its baggage (Baggage.Set, then Baggage.Get) or in durable state"

// Sender sends eventual messages to one target; make it with E.
type Sender struct{ target any }

// E returns a sender for target: a *Presence (an object of another vat), a
// *Promise (the message waits in the kernel until the promise settles:
// promise pipelining), or an *Object of this vat that has been passed out
// before.
func E(target any) Sender { return Sender{target: target} }

// Send sends method(args...) to the target through the kernel and returns
// a promise for the result. It never blocks. A message that cannot be sent
// (an argument that cannot be passed, a target of no vat) gives a rejected
// promise.
func (s Sender) Send(method string, args ...any) *Promise {
	inst, err := instanceOf(s.target)
	if err != nil {
		p := &Promise{}
		p.reject(err)
		return p
	}
	return inst.send(s.target, method, args)
}

// SendOnly sends method(args...) to the target through the kernel and
// asks for no result (SwingSet's E.sendOnly): the kernel allocates no
// result promise, the receiver's return value goes nowhere, and nobody
// hears whether the message arrived. It never blocks. The error says the
// message could not be sent at all (an argument that cannot be passed, a
// target of no vat); then nothing was sent.
func (s Sender) SendOnly(method string, args ...any) error {
	inst, err := instanceOf(s.target)
	if err != nil {
		return err
	}
	return inst.sendOnly(s.target, method, args)
}

func instanceOf(target any) (*Instance, error) {
	switch t := target.(type) {
	case nil:
		return nil, fmt.Errorf("%w: %s", ErrNoTarget, noTargetHint)
	case *Presence:
		if t == nil {
			return nil, fmt.Errorf("%w (a nil *vat.Presence): %s", ErrNoTarget, noTargetHint)
		}
		if t.retired {
			return nil, fmt.Errorf("vat: E(%s): its object is gone", t.iface)
		}
		return t.inst, nil
	case *Promise:
		if t == nil {
			return nil, fmt.Errorf("%w (a nil *vat.Promise): %s", ErrNoTarget, noTargetHint)
		}
		if t.inst == nil {
			return nil, ErrUnbound
		}
		return t.inst, nil
	case *Object:
		if t == nil {
			return nil, fmt.Errorf("%w (a nil *vat.Object): %s", ErrNoTarget, noTargetHint)
		}
		if t.inst == nil {
			return nil, fmt.Errorf("vat: E(%q): the object has not left its vat; call its method directly", t.iface)
		}
		return t.inst, nil
	}
	return nil, fmt.Errorf("vat: E(%T): want a *Presence, *Promise or *Object", target)
}

func (inst *Instance) send(target any, method string, args []any) *Promise {
	result := inst.newPromise()
	ref, methargs, err := inst.encodeSend(target, method, args)
	if err != nil {
		result.reject(err)
		return result
	}
	vpid := inst.nextVRef(true)
	result.vpid = vpid
	inst.promises[vpid] = result
	inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallSend, Target: vatproto.VRef(ref.Slot),
		Message: vatproto.VatMessage{Methargs: methargs, Result: vatproto.VRef(vpid)}})
	inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallSubscribe, VPID: vatproto.VRef(vpid)})
	inst.flushResolves()
	return result
}

// sendOnly is send with no result: a syscall.send whose Result is "".
func (inst *Instance) sendOnly(target any, method string, args []any) error {
	ref, methargs, err := inst.encodeSend(target, method, args)
	if err != nil {
		return err
	}
	inst.syscall(vatproto.Syscall{Kind: vatproto.SyscallSend, Target: vatproto.VRef(ref.Slot),
		Message: vatproto.VatMessage{Methargs: methargs}})
	// Promises the arguments exported already settled are resolved right
	// after the send that exported them, as for Send.
	inst.flushResolves()
	return nil
}

// encodeSend marshals a message's target and methargs.
func (inst *Instance) encodeSend(target any, method string, args []any) (marshal.Ref, marshal.CapData, error) {
	ref, ok, err := inst.slotOf(target)
	if err == nil && !ok {
		err = fmt.Errorf("vat: E(%T): not a reference", target)
	}
	if err != nil {
		return marshal.Ref{}, marshal.CapData{}, err
	}
	methargs, err := inst.codec.EncodeMethargs(method, args)
	if err != nil {
		return marshal.Ref{}, marshal.CapData{}, fmt.Errorf("vat: send %s: %w", method, err)
	}
	return ref, methargs, nil
}
