package supervisor

import (
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

func (*Deliver) vatMessage() {}
func (*Ping) vatMessage()    {}
