package vat

import (
	"fmt"

	"github.com/ocapgo/kernel-actors/vatproto"
)

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

func instanceOf(target any) (*Instance, error) {
	switch t := target.(type) {
	case *Presence:
		if t.retired {
			return nil, fmt.Errorf("vat: E(%s): its object is gone", t.iface)
		}
		return t.inst, nil
	case *Promise:
		if t.inst == nil {
			return nil, ErrUnbound
		}
		return t.inst, nil
	case *Object:
		if t.inst == nil {
			return nil, fmt.Errorf("vat: E(%q): the object has not left its vat; call its method directly", t.iface)
		}
		return t.inst, nil
	case nil:
		return nil, fmt.Errorf("vat: E(nil)")
	}
	return nil, fmt.Errorf("vat: E(%T): want a *Presence, *Promise or *Object", target)
}

func (inst *Instance) send(target any, method string, args []any) *Promise {
	result := inst.newPromise()
	if args == nil {
		args = []any{}
	}
	ref, ok, err := inst.slotOf(target)
	if err == nil && !ok {
		err = fmt.Errorf("vat: E(%T): not a reference", target)
	}
	if err != nil {
		result.reject(err)
		return result
	}
	methargs, err := inst.codec.Encode([]any{method, args})
	if err != nil {
		result.reject(fmt.Errorf("vat: send %s: %w", method, err))
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
