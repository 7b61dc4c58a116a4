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
		n, err := fr.r.Read(fr.buf[fr.end:])
		fr.end += n
		if err != nil && n == 0 {
			if errors.Is(err, io.EOF) && fr.end > fr.start {
				return nil, fmt.Errorf("%w: %d bytes of a frame with no newline", io.ErrUnexpectedEOF, fr.end-fr.start)
			}
			return nil, err
		}
	}
}

// buffered reports whether bytes have been read that no frame returned
// yet.
func (fr *frameReader) buffered() bool { return fr.end > fr.start }
