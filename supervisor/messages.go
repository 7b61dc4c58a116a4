package supervisor

import (
	"github.com/ocapgo/kernel-actors/vatproto"
)

// Message is a message a vat actor understands. The set is closed.
type Message interface{ vatMessage() }

// Deliver asks a vat actor to handle one delivery. Syscalls go through Sys
// (a pump to the kernel actor); the outcome goes to Done, which must have
// room for one value.
type Deliver struct {
	D    vatproto.Delivery
	Sys  vatproto.Syscaller
	Done chan<- error
}

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
