package jsvat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// frameReader reads newline-ended frames of at most max bytes (the
// newline included). It checks the limit against what has arrived, not
// against a full buffer: a worker that writes a long frame and then waits
// is caught as soon as the limit is passed.
type frameReader struct {
	r          io.Reader
	max        int
	buf        []byte
	start, end int // buf[start:end] is read but not yet returned
	scanned    int // buf[start:scanned] has no newline
}

// The buffer starts small and grows only as a frame needs it, to max+1
// bytes at most: a vat whose frames are small costs the kernel
// frameBuffer, not MaxFrame.
func newFrameReader(r io.Reader, max int) *frameReader {
	return &frameReader{r: r, max: max, buf: make([]byte, min(frameBuffer, max+1))}
}

// next returns the next frame without its newline. The slice is valid
// until the next call.
func (fr *frameReader) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(fr.buf[fr.scanned:fr.end], '\n'); i >= 0 {
			line := fr.buf[fr.start : fr.scanned+i]
			fr.start = fr.scanned + i + 1
			fr.scanned = fr.start
			return line, nil
		}
		fr.scanned = fr.end
		// INVARIANT: no frame over the limit is ever held whole: max bytes with no
		// newline already make a frame over max with its newline, and it is
		// refused before another read. So a worker cannot make the kernel hold
		// more than max+1 bytes for it, whatever it writes.
		if fr.end-fr.start >= fr.max {
			return nil, fmt.Errorf("%w: a frame of more than %d bytes (the limit, Options.MaxFrame)", ErrProtocol, fr.max)
		}
		if fr.end == len(fr.buf) {
			// Make room: move the partial frame to the front, and grow the
			// buffer (never past one frame) if it is still full.
			n := copy(fr.buf, fr.buf[fr.start:fr.end])
			fr.scanned -= fr.start
			fr.start, fr.end = 0, n
			if n == len(fr.buf) {
				grown := make([]byte, min(2*len(fr.buf), fr.max+1))
				copy(grown, fr.buf[:n])
				fr.buf = grown
			}
		}
		// A read that returns bytes and an error keeps the bytes and drops the
		// error: the next read returns it again (a deadline, EOF), after any frame
		// those bytes end has been returned.
		n, err := fr.r.Read(fr.buf[fr.end:])
		fr.end += n
		if err != nil && n == 0 {
			// A frame with no newline at the pipe's end is a worker that died while
			// writing: not a frame to act on, and reported as such.
			if errors.Is(err, io.EOF) && fr.end > fr.start {
				return nil, fmt.Errorf("%w: %d bytes of a frame with no newline", io.ErrUnexpectedEOF, fr.end-fr.start)
			}
			return nil, err
		}
	}
}

// buffered reports whether bytes have been read that no frame returned
// yet.
// Bytes read ahead belong to the worker's next frame, so call's check for
// frames between requests must look here as well as in the pipe.
func (fr *frameReader) buffered() bool { return fr.end > fr.start }
