package supervisor

import (
	"errors"

	"github.com/ocapgo/kernel-actors/vatproto"
)

// Message is a message a vat actor understands. The set is closed.
type Message interface{ vatMessage() }

// Deliver asks a vat actor to handle one delivery. Syscalls go through
// Sys (the pump's gate to the kernel's Syscaller); the vat reports the
// outcome with Done. Pump makes it; once the kernel has stopped waiting
// for the delivery, Sys answers every syscall ErrAborted and Done does
// nothing.
type Deliver struct {
	D   vatproto.Delivery
	Sys vatproto.Syscaller
	h   delivery // what Sys points to
}

// Done reports the delivery's outcome: nil, or why the vat failed it. It
// never blocks; only the first call counts.
func (m *Deliver) Done(err error) { m.h.report(err) }

// Ping asks a vat actor whether it is alive; it responds with Pong.
type Ping struct{}

// Pong answers Ping. Err is set when the vat's actor answers but the vat
// behind it does not (a worker process that is dead or hung).
type Pong struct {
	Incarnation int64
	Err         error
}

// Pinger is a raw vat that can be asked whether it is alive: one outside
// the kernel's process (package jsvat), whose actor answering says nothing
// about it.
type Pinger interface {
	Ping() error
}

// Quiesce asks a vat actor, between deliveries, whether its instance may
// be paged out (docs/paging.md): Done gets nil if the instance reports it
// is quiescent (Quiescer), or an error saying why not. It changes
// nothing: the kernel actor stops the actor if it goes ahead. Done must
// have room for one value.
type Quiesce struct {
	Done chan<- error
}

// Quiescer is a vat instance that can tell whether it holds state a
// page-out would lose (vat.Instance.Quiescent); one that cannot is never
// paged out.
type Quiescer interface {
	Quiescent() error
}

// ErrNoQuiescence answers Quiesce for a vat whose instance is not a
// Quiescer (a raw vat of the host's).
var ErrNoQuiescence = errors.New("supervisor: the vat's instance does not report quiescence")

func (*Deliver) vatMessage() {}
func (*Quiesce) vatMessage() {}
func (*Ping) vatMessage()    {}
