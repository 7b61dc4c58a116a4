package jsvat

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// The I/O of a call, on the vat's own goroutine: frames are written to the
// worker and read back where the delivery runs, with no goroutine between
// (each hand-off between goroutines costs a wake-up, and on a machine of
// two cores shared with the workers those wake-ups were most of a crank).
// A read or write that would block waits at most pollInterval at a time;
// in between, the call looks at whether the kernel has abandoned the
// delivery or the vat is being stopped, so a worker that spins, hangs or
// stops reading is given up on within pollInterval of the kernel's
// decision. (Kill closes the pipes too, which ends a wait at once.)

// pollInterval bounds how long a call waits on the worker before it looks
// again at whether it should stop waiting.
// It is the latency of giving up, not of a delivery: a worker that answers
// is read as soon as its bytes arrive. Shorter would wake the vat's
// goroutine more often during a long delivery, for nothing.
const pollInterval = 10 * time.Millisecond

// readFrame reads and decodes the next frame, handling log notifications
// itself (they go to the vat's log, at any time) and returning anything
// else. A frame error, the worker's death, an abandoned delivery and a
// stopped vat come back as inbound.err.
func (p *process) readFrame(abandoned <-chan struct{}) inbound {
	for {
		in := p.readAny(abandoned)
		if in.log == nil {
			return in
		}
		p.logEntry(in.log)
		// given is asked after each log line too: a worker that logs without
		// pause must not keep the kernel here past an abandonment.
		if stopErr := p.given(abandoned); stopErr != nil {
			return inbound{err: stopErr}
		}
	}
}

// readAny reads and decodes the next frame, whatever it is, a log
// notification included.
func (p *process) readAny(abandoned <-chan struct{}) inbound {
	for {
		// A deadline is a point in time, so it is set afresh each turn: each
		// wait is at most pollInterval, even for a worker that trickles bytes.
		if err := p.out.SetReadDeadline(time.Now().Add(pollInterval)); err != nil {
			return inbound{err: p.gone(err)}
		}
		line, err := p.fr.next()
		// INVARIANT: the kernel never waits on a worker for more than
		// pollInterval without asking whether it still should (given).
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if stopErr := p.given(abandoned); stopErr != nil {
				return inbound{err: stopErr}
			}
			continue
		}
		if err != nil {
			// An oversized frame is the worker's breach, not its death: it keeps its
			// own error, so the vat fails as ErrProtocol.
			if errors.Is(err, ErrProtocol) {
				return inbound{err: err}
			}
			return inbound{err: p.gone(err)}
		}
		// INVARIANT: every frame is validated (decodeInbound) before any part of
		// it is used.
		return decodeInbound(line)
	}
}

// writeFrame writes one frame, whole.
//
// A write may be cut short by the deadline after writing part of the frame;
// the rest is written on the next turn, so the worker never sees a frame
// torn in two, or two frames mixed.
func (p *process) writeFrame(frame []byte, abandoned <-chan struct{}) error {
	for len(frame) > 0 {
		if err := p.in.SetWriteDeadline(time.Now().Add(pollInterval)); err != nil {
			return p.gone(err)
		}
		n, err := p.in.Write(frame)
		frame = frame[n:]
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The worker is not reading (it spins, or hangs).
			if stopErr := p.given(abandoned); stopErr != nil {
				return stopErr
			}
			continue
		}
		if err != nil {
			return p.gone(err)
		}
	}
	return nil
}

// given reports why the call must stop waiting, if it must: the kernel
// abandoned the delivery, or the vat is being stopped.
//
// It never blocks: it is asked between reads, and the read must go on at
// once if the answer is no.
func (p *process) given(abandoned <-chan struct{}) error {
	select {
	case <-abandoned:
		return ErrAborted
	// Kill closes stop. Stop and the kernel's abandonment are different
	// causes, so they say so, but both are ErrAborted: the kernel's decision,
	// not the vat's fault.
	case <-p.stop:
		return fmt.Errorf("%w: the vat was stopped", ErrAborted)
	default:
		return nil
	}
}

// gone is the error for a pipe that failed: the worker's death (or kill).
//
// stop is looked at first: kill closes the pipes, and a read or write
// that fails because of that must report the kill, not a worker death
// that the kernel's failure policy would blame on the vat.
func (p *process) gone(err error) error {
	select {
	case <-p.stop:
		return fmt.Errorf("%w: the vat was stopped", ErrAborted)
	default:
	}
	return p.deathError(err)
}

// pending reports whether the worker has said something since the last
// call: bytes in the frame reader's buffer or in the pipe, or its death.
//
// It looks without reading and without blocking, before a request is
// written: call reads only when this says there is something, so a
// request to a quiet worker costs an ioctl, not a read left to time out. Where pipeBytes is not known (not
// Linux) it sees only the frame buffer and the worker's death.
func (p *process) pending() bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	if p.fr.buffered() {
		return true
	}
	n := 0
	if rc, err := p.out.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { n = pipeBytes(fd) })
	}
	return n > 0
}
