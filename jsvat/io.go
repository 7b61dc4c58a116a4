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
const pollInterval = 10 * time.Millisecond

// readFrame reads and decodes the next frame, handling log notifications
// itself (they go to the vat's log, at any time) and returning anything
// else. A frame error, the worker's death, an abandoned delivery and a
// stopped vat come back as inbound.err.
func (p *process) readFrame(abandoned <-chan struct{}) inbound {
	for {
		if err := p.out.SetReadDeadline(time.Now().Add(pollInterval)); err != nil {
			return inbound{err: p.gone(err)}
		}
		line, err := p.fr.next()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if stopErr := p.given(abandoned); stopErr != nil {
				return inbound{err: stopErr}
			}
			continue
		}
		if err != nil {
			if errors.Is(err, ErrProtocol) {
				return inbound{err: err}
			}
			return inbound{err: p.gone(err)}
		}
		in := decodeInbound(line)
		if in.log != nil {
			p.logEntry(in.log)
			if stopErr := p.given(abandoned); stopErr != nil {
				return inbound{err: stopErr}
			}
			continue
		}
		return in
	}
}

// writeFrame writes one frame, whole.
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
func (p *process) given(abandoned <-chan struct{}) error {
	select {
	case <-abandoned:
		return ErrAborted
	case <-p.stop:
		return fmt.Errorf("%w: the vat was stopped", ErrAborted)
	default:
		return nil
	}
}

// gone is the error for a pipe that failed: the worker's death (or kill).
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
