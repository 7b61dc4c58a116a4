package control

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Defaults for the connection limits of a Server (see HTTPServer and
// Listener). Each bounds what a client holds without doing anything: a
// connection that sends nothing, sends its headers or body a byte at a
// time, or stays open between requests. Without them, a thousand idle
// connections (no token needed: a 401 keeps the connection alive) each
// held a file descriptor until the process ran out.
const (
	// DefaultReadHeaderTimeout bounds the wait for a request's headers,
	// from the moment the connection is accepted or the previous
	// request ended.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, body included.
	DefaultReadTimeout = 30 * time.Second
	// DefaultIdleTimeout bounds how long a kept-alive connection may sit
	// between requests.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultMaxConns bounds the connections open at once. The API's
	// clients are a few command-line tools and programs; one more is
	// answered 503 and closed, so a flood costs the daemon MaxConns file
	// descriptors and no more.
	DefaultMaxConns = 256
	// DefaultMaxHeaderBytes bounds a request's headers. The API needs a
	// token and a content type.
	DefaultMaxHeaderBytes = 64 << 10
	// writeGrace is how long, beyond reading the request and waiting for
	// the kernel, answering may take: a large inspect report to a slow
	// reader.
	writeGrace = 10 * time.Second
	// rejectTimeout bounds answering a connection over the limit.
	rejectTimeout = time.Second
)

func orDefault[T ~int | ~int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// HTTPServer returns an *http.Server for the API with the server's
// timeouts: ReadHeaderTimeout, ReadTimeout and IdleTimeout as set (or
// their defaults), and a WriteTimeout long enough for the slowest legal
// request: reading it, the kernel's answer (Timeout), and writing the
// answer. Serve it on Listener(ln), which bounds the connections.
func (s *Server) HTTPServer() *http.Server {
	read := orDefault(s.ReadTimeout, DefaultReadTimeout)
	header := orDefault(s.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	header = min(header, read) // the headers are part of the request
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: header,
		ReadTimeout:       read,
		// Set when the headers are read; the body, the wait for the
		// kernel and the answer all fall inside it. A request cut by it
		// has already had its own answer (504 TIMEOUT at Timeout).
		WriteTimeout:   read + orDefault(s.Timeout, DefaultTimeout) + writeGrace,
		IdleTimeout:    orDefault(s.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes: DefaultMaxHeaderBytes,
	}
}

// Listener wraps ln so that at most MaxConns (or DefaultMaxConns)
// accepted connections are open at once. A connection over the limit is
// answered "503 Service Unavailable" with a JSON error naming the limit,
// and closed; Accept goes straight on to the next one.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, max: orDefault(s.MaxConns, DefaultMaxConns),
		rejecting: make(chan struct{}, maxRejecting)}
}

// maxRejecting bounds the refused connections being answered at once;
// past it, a refused connection is closed without an answer.
const maxRejecting = 16

// limitListener counts the connections it handed out and not yet closed.
type limitListener struct {
	net.Listener
	max       int
	rejecting chan struct{} // a slot per refused connection being answered

	mu struct {
		sync.Mutex
		open int // connections accepted and not closed
	}
}

// Accept returns the next connection within the limit, refusing those
// over it.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.take() {
			return &limitedConn{Conn: c, l: l}, nil
		}
		select {
		case l.rejecting <- struct{}{}:
			go func() {
				defer func() { <-l.rejecting }()
				reject(c, l.max)
			}()
		default: // a flood: answering costs more than it tells
			_ = c.Close()
		}
	}
}

// take counts one more open connection if the limit allows it.
func (l *limitListener) take() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.open >= l.max {
		return false
	}
	l.mu.open++
	return true
}

// give returns a slot taken by take.
func (l *limitListener) give() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mu.open--
}

// reject answers a connection over the limit and closes it. It reads
// the request's headers first (within rejectTimeout; whatever they ask):
// an HTTP client takes an answer that comes before its request for a
// broken connection. It then half-closes and reads what else the client
// sent, as net/http does, since closing a socket with unread data resets
// it and the client would see "connection reset" instead of the answer.
func reject(c net.Conn, max int) {
	defer c.Close() // a client that went away: nothing to do
	_ = c.SetDeadline(time.Now().Add(rejectTimeout))
	_, _ = http.ReadRequest(bufio.NewReaderSize(io.LimitReader(c, DefaultMaxHeaderBytes), 4096))
	body := fmt.Sprintf(`{"error": {"status": 503, "code": "TOO_MANY_CONNECTIONS", "message": "the server has %d connections open, its limit; try again later"}}`+"\n", max)
	_ = c.SetDeadline(time.Now().Add(rejectTimeout))
	if _, err := fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\nRetry-After: 1\r\n\r\n%s", len(body), body); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(c, DefaultMaxHeaderBytes))
}

// limitedConn gives its slot back when closed (once, however often it is
// closed).
type limitedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

// Close closes the connection and gives its slot back, once.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.l.give)
	return err
}

// CloseWrite passes through to the connection, so that net/http can end a
// connection gracefully (half-close, then close) as it does a bare one.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
