package control_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/control"
)

// stillOpen bounds the wait for a connection that should close: if it
// passes, the connection was left open (the test fails; it never sleeps).
const stillOpen = 30 * time.Second

// serveReal serves s as serve does: s.HTTPServer on s.Listener, on
// loopback. It returns the address.
func serveReal(t *testing.T, s *control.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := s.HTTPServer()
	done := make(chan error, 1)
	go func() { done <- hs.Serve(s.Listener(ln)) }()
	t.Cleanup(func() {
		hs.Close()
		require.ErrorIs(t, <-done, http.ErrServerClosed)
	})
	return ln.Addr().String()
}

func startKernel(t *testing.T) *actors.Kernel {
	t.Helper()
	ctx := context.Background()
	k, err := actors.Start(ctx, actors.Config{Registry: registry()})
	require.NoError(t, err)
	t.Cleanup(func() { k.Stop(ctx) })
	return k
}

// waitClosed reads c to its end and fails if the server has not closed it
// within stillOpen.
func waitClosed(c net.Conn) error {
	if err := c.SetReadDeadline(time.Now().Add(stillOpen)); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%s: still open after %v", c.LocalAddr(), stillOpen)
	}
	return nil // EOF, or a reset: closed either way
}

// A thousand connections that hold the server without finishing a
// request, none with a token, are all closed by the server: silent ones,
// ones trickling their headers, ones with half a body, and ones kept
// alive after a 401 (before IdleTimeout, these stayed open for good, and
// the daemon ran out of file descriptors). The server still serves after.
func TestIdleConnectionsAreClosed(t *testing.T) {
	k := startKernel(t)
	addr := serveReal(t, &control.Server{Kernel: k, Token: token, MaxConns: 2000,
		ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})

	// Each kind writes what it writes as soon as it is connected (before
	// any of the server's timers could have run out), then checks what
	// it reads.
	kinds := []struct {
		name  string
		write string
		check func(r *bufio.Reader) error
	}{
		{"silent", "", nil},
		{"trickled headers", "GET /v1/status HTTP/1.1\r\nHost: x\r\n", nil},
		{"half a body", "POST /v1/send HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\nContent-Length: 100\r\n\r\n{\"tar", nil},
		{"kept alive after a 401", "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n", func(r *bufio.Reader) error {
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || resp.Close {
				return fmt.Errorf("want a kept-alive 401, got %d (close %v)", resp.StatusCode, resp.Close)
			}
			_, err = io.Copy(io.Discard, resp.Body)
			return err
		}},
	}
	const perKind = 250
	var wg sync.WaitGroup
	errs := make(chan error, perKind*len(kinds))
	for _, kind := range kinds {
		for range perKind {
			c, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer c.Close()
			_, err = io.WriteString(c, kind.write)
			require.NoError(t, err)
			wg.Go(func() {
				r := bufio.NewReader(c)
				if kind.check != nil {
					if err := kind.check(r); err != nil {
						errs <- fmt.Errorf("%s: %w", kind.name, err)
						return
					}
				}
				if err := waitClosed(c); err != nil {
					errs <- fmt.Errorf("%s: %w", kind.name, err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	c := &control.Client{Base: "http://" + addr, Token: token}
	_, err := c.Status(context.Background())
	require.NoError(t, err, "the server serves after the idle connections are gone")
}

// One connection over MaxConns is answered 503 TOO_MANY_CONNECTIONS (a
// client reads it as an APIError) and closed, while those within the
// limit stay served.
func TestConnectionLimit(t *testing.T) {
	k := startKernel(t)
	addr := serveReal(t, &control.Server{Kernel: k, Token: token, MaxConns: 3})

	// Three connections held open, accepted in dial order (each dial
	// completes before the next starts).
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		held = append(held, c)
	}
	// The fourth is refused.
	c4, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c4.Close()
	_, err = io.WriteString(c4, "GET /v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+token+"\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c4), nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Contains(t, string(body), `"code": "TOO_MANY_CONNECTIONS"`)
	require.Contains(t, string(body), "3 connections open")
	require.NoError(t, waitClosed(c4))

	cl := &control.Client{Base: "http://" + addr, Token: token,
		HTTP: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	_, err = cl.Status(context.Background())
	e := apiErr(t, err)
	require.Equal(t, http.StatusServiceUnavailable, e.Status)
	require.Equal(t, "TOO_MANY_CONNECTIONS", e.Code)

	// A held connection is still served.
	_, err = io.WriteString(held[0], "GET /v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+token+"\r\n\r\n")
	require.NoError(t, err)
	resp, err = http.ReadResponse(bufio.NewReader(held[0]), nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// The listener alone: a slot comes back when its connection closes, once
// however often it is closed.
func TestListenerGivesSlotsBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := (&control.Server{MaxConns: 2}).Listener(ln)
	defer l.Close()
	accepted := make(chan net.Conn)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	refused := func() {
		t.Helper()
		c := dial()
		_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		line, err := bufio.NewReader(c).ReadString('\n')
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(line, "HTTP/1.1 503"), line)
	}
	dial()
	dial()
	s1, s2 := <-accepted, <-accepted
	refused()
	require.NoError(t, s1.Close())
	s1.Close() // again: gives nothing back twice (net's error for it is ignored)
	dial()
	s3 := <-accepted
	refused()
	s2.Close()
	s3.Close()
	dial()
	dial()
	<-accepted
	<-accepted
	refused()
}
