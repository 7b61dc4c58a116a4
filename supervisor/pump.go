package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// The channel pump: a delivery runs on the vat actor's goroutine, and its
// syscalls must be answered by the kernel, whose actor is busy running the
// crank and cannot take messages. So the kernel's Deliver sends the vat a
// Deliver message and then pumps: it answers syscalls arriving on a
// channel until the vat reports done, the deadline passes, or the kernel
// interrupts. The vat side never waits on the kernel's mailbox, and every
// wait selects on an abort channel that the kernel closes when it stops
// pumping, so a late vat goroutine is never left blocked
// (a channel the kernel actor reads while it waits: it never waits on
// its own mailbox).

type syscallReq struct {
	s     vatproto.Syscall
	reply chan vatproto.SyscallResult
}

// ErrInterrupted is wrapped by a delivery's failure when the host
// terminated the vat during it.
var ErrInterrupted = errors.New("terminated by the host during a delivery")

// ErrAborted answers a vat's syscall once the kernel has stopped waiting
// for the delivery (deadline, termination, shutdown).
var ErrAborted = errors.New("supervisor: the kernel abandoned the delivery")

// pumpSyscaller is the vat's Syscaller during one delivery.
type pumpSyscaller struct {
	reqs  chan<- syscallReq
	reply chan vatproto.SyscallResult // one syscall at a time: reused
	abort <-chan struct{}
}

// Abandoned is closed once the kernel stops waiting for the delivery
// (done, deadline, termination, shutdown). A vat that waits on something
// other than its syscalls, a worker process (package jsvat), selects on it
// so that the kernel's giving up ends the wait at once, and kills what it
// waited on.
func (p *pumpSyscaller) Abandoned() <-chan struct{} { return p.abort }

func (p *pumpSyscaller) Syscall(s vatproto.Syscall) vatproto.SyscallResult {
	select {
	case p.reqs <- syscallReq{s: s, reply: p.reply}:
	case <-p.abort:
		return vatproto.SyscallResult{Err: ErrAborted}
	}
	select {
	case r := <-p.reply:
		return r
	case <-p.abort:
		return vatproto.SyscallResult{Err: ErrAborted}
	}
}

// PumpOptions tune Pump.
type PumpOptions struct {
	// Deadline bounds the delivery; <= 0 means none.
	Deadline time.Duration
	// After is the clock's timer (time.After by default).
	After func(time.Duration) <-chan time.Time
	// Interrupts carries vats the host is terminating: one naming Vat
	// interrupts the delivery (others are ignored: their requests follow
	// as messages).
	Interrupts <-chan kernel.VatID
	Vat        kernel.VatID
}

// Pump delivers d to a vat actor (send sends it the Deliver message) and
// answers its syscalls with sys until the delivery ends. It returns nil,
// or an error wrapping kernel.ErrVatFault when the vat failed, missed its
// deadline, or was interrupted by the host; ctx ending returns ctx's error.
func Pump(ctx context.Context, send func(msg any), d vatproto.Delivery, sys vatproto.Syscaller, opts PumpOptions) error {
	deadline := opts.Deadline
	after := opts.After
	if after == nil {
		after = time.After
	}
	reqs := make(chan syscallReq)
	done := make(chan error, 1)
	abort := make(chan struct{})
	defer close(abort)
	send(&Deliver{D: d, Sys: &pumpSyscaller{reqs: reqs, reply: make(chan vatproto.SyscallResult, 1), abort: abort}, Done: done})
	var timeout <-chan time.Time
	if deadline > 0 {
		timeout = after(deadline)
	}
	for {
		select {
		case r := <-reqs:
			r.reply <- sys.Syscall(r.s)
		case err := <-done:
			if err != nil {
				return fmt.Errorf("%w: %v", kernel.ErrVatFault, err)
			}
			return nil
		case <-timeout:
			return fmt.Errorf("%w: missed its delivery deadline of %v", kernel.ErrVatFault, deadline)
		case v := <-opts.Interrupts:
			if v == opts.Vat {
				return fmt.Errorf("%w: %w", kernel.ErrVatFault, ErrInterrupted)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
