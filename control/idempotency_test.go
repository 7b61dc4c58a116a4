package control_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/kernel"
)

// lossyTransport forwards requests to the server and loses the answers
// of the first lose of them in one of two ways, reporting a broken
// connection: the client cannot tell whether its send took effect.
type lossyTransport struct {
	inner http.RoundTripper
	lose  int
	// cutOnWrite cuts the connection as soon as the request is written,
	// before the server answers; otherwise the whole answer is read (the
	// kernel has applied the send and answered) and thrown away.
	cutOnWrite bool

	mu      sync.Mutex
	bodies  []string // every request body, in order
	dropped []int    // the status of each whole answer thrown away
}

func (lt *lossyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	lt.mu.Lock()
	lt.bodies = append(lt.bodies, string(body))
	lose := len(lt.bodies) <= lt.lose
	lt.mu.Unlock()
	if !lose {
		return lt.inner.RoundTrip(req)
	}
	ctx := req.Context()
	if lt.cutOnWrite {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ctx = httptrace.WithClientTrace(cctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { cancel() }})
	}
	resp, err := lt.inner.RoundTrip(req.WithContext(ctx))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil {
			lt.mu.Lock()
			lt.dropped = append(lt.dropped, resp.StatusCode)
			lt.mu.Unlock()
		}
	}
	return nil, fmt.Errorf("test transport: connection reset after the request was written: %w", syscall.ECONNRESET)
}

func (lt *lossyTransport) sent() []string {
	lt.mu.Lock()
	defer lt.mu.Unlock()
	return append([]string(nil), lt.bodies...)
}

// waits records the client's backoff waits and returns at once.
type waits struct {
	mu sync.Mutex
	ds []time.Duration
}

func (w *waits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ds = append(w.ds, d)
	return ctx.Err()
}

func keyOf(t *testing.T, body string) string {
	t.Helper()
	var req control.SendRequest
	require.NoError(t, json.Unmarshal([]byte(body), &req))
	require.NotNil(t, req.IdempotencyKey, "the client sends a key: %s", body)
	return *req.IdempotencyKey
}

// A send whose answer is lost (after the kernel applied it and answered,
// or with the connection cut as soon as the request was written) is sent
// again by the client with the same key: the count goes up once, and the
// answer is the first send's result (5; a second application would
// answer 10). A send without a key, repeated, applies twice: the case
// the key exists for.
func TestSendRetriedAfterLostAnswerAppliesOnce(t *testing.T) {
	for _, tt := range []struct {
		name       string
		cutOnWrite bool
	}{
		{"answer read and dropped", false},
		{"connection cut once the request is written", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			root := f.launch().RootKref
			inner := &http.Transport{}
			defer inner.CloseIdleConnections()
			lt := &lossyTransport{inner: inner, lose: 1, cutOnWrite: tt.cutOnWrite}
			var w waits
			c := &control.Client{Base: f.srv.URL, Token: token, HTTP: &http.Client{Transport: lt}, Retry: control.Retry{Wait: w.wait}}

			v, err := c.Send(f.ctx, root, "incr", []any{5})
			require.NoError(t, err)
			require.JSONEq(t, `5`, string(v), "the first send's result")
			n, err := f.k.QueueMessage(f.ctx, kernel.KRef(root), "incr", 0)
			require.NoError(t, err)
			require.Equal(t, int64(5), n, "applied once")

			if !tt.cutOnWrite {
				require.Equal(t, []int{http.StatusOK}, lt.dropped, "the kernel had applied it and answered")
			}
			bodies := lt.sent()
			require.Len(t, bodies, 2, "sent, lost, sent again")
			require.Equal(t, bodies[0], bodies[1], "the same message, byte for byte")
			key := keyOf(t, bodies[0])
			require.Len(t, key, 32)
			_, err = hex.DecodeString(key)
			require.NoError(t, err, "128 random bits in hex")
			require.Len(t, w.ds, 1)
			require.GreaterOrEqual(t, w.ds[0], control.DefaultBackoff/2)
			require.LessOrEqual(t, w.ds[0], control.DefaultBackoff)
		})
	}

	t.Run("without a key", func(t *testing.T) {
		f := newFixture(t)
		root := f.launch().RootKref
		for range 2 { // the answer of the first was lost, say
			req, err := http.NewRequest("POST", f.srv.URL+"/v1/send", strings.NewReader(`{"target": "`+root+`", "method": "incr", "args": [5]}`))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
		}
		n, err := f.k.QueueMessage(f.ctx, kernel.KRef(root), "incr", 0)
		require.NoError(t, err)
		require.Equal(t, int64(10), n, "applied twice")
	})
}

// A caller's own key: the same key and message, sent again in a later
// call, applies nothing and answers the first result; the same key with
// another message is a 409 IDEMPOTENCY_KEY_REUSED and sends nothing.
// Send without a key draws a new one for each call, so two calls are two
// sends.
func TestSendKey(t *testing.T) {
	f := newFixture(t)
	root := f.launch().RootKref
	lt := &lossyTransport{inner: http.DefaultTransport}
	c := &control.Client{Base: f.srv.URL, Token: token, HTTP: &http.Client{Transport: lt}}
	ctx := f.ctx

	for range 3 {
		v, err := c.SendKey(ctx, "deposit-1", root, "incr", []any{7})
		require.NoError(t, err)
		require.JSONEq(t, `7`, string(v))
	}
	_, err := c.SendKey(ctx, "deposit-1", root, "incr", []any{8})
	e := apiErr(t, err)
	require.Equal(t, http.StatusConflict, e.Status)
	require.Equal(t, control.CodeIdempotencyKeyReused, e.Code)
	require.Contains(t, e.Message, "already used for a different message")
	_, err = c.SendKey(ctx, "deposit-1", root, "version", nil)
	require.Equal(t, control.CodeIdempotencyKeyReused, apiErr(t, err).Code, "another method is another message")

	v, err := c.Send(ctx, root, "incr", []any{1})
	require.NoError(t, err)
	require.JSONEq(t, `8`, string(v), "7 once, then this one")
	v, err = c.Send(ctx, root, "incr", []any{1})
	require.NoError(t, err)
	require.JSONEq(t, `9`, string(v), "a new key per Send")
	bodies := lt.sent()
	require.Len(t, bodies, 7, "nothing was retried")
	require.NotEqual(t, keyOf(t, bodies[5]), keyOf(t, bodies[6]))

	_, err = c.SendKey(ctx, "", root, "incr", nil)
	require.ErrorContains(t, err, "bad idempotency key: empty")
	require.Len(t, lt.sent(), 7, "an empty key is not sent (it would be a send without one)")
}

// The key may come in the Idempotency-Key header or the body, or in both
// if they agree. A key given empty, too long or not UTF-8, a repeated
// header, and a header and body that differ are 400 BAD_IDEMPOTENCY_KEY,
// and nothing is sent.
func TestIdempotencyKeyHeaderAndBody(t *testing.T) {
	f := newFixture(t)
	root := f.launch().RootKref
	post := func(headers []string, body string) (int, control.APIError, string) {
		req, err := http.NewRequest("POST", f.srv.URL+"/v1/send", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		for _, h := range headers {
			req.Header.Add(control.IdempotencyHeader, h)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var eb control.ErrorBody
		_ = json.Unmarshal(data, &eb)
		return resp.StatusCode, eb.Error, string(data)
	}
	incr := func(extra string) string {
		return `{"target": "` + root + `", "method": "incr", "args": [1]` + extra + `}`
	}
	count := func() int64 {
		n, err := f.k.QueueMessage(f.ctx, kernel.KRef(root), "incr", 0)
		require.NoError(t, err)
		return n.(int64)
	}

	for range 2 {
		code, _, out := post([]string{"h-1"}, incr(""))
		require.Equal(t, http.StatusOK, code, out)
		require.JSONEq(t, `{"result": 1}`, out)
	}
	code, _, out := post(nil, incr(`, "idempotencyKey": "h-1"`))
	require.Equal(t, http.StatusOK, code, out)
	require.JSONEq(t, `{"result": 1}`, out, "the body's key is the header's key")
	code, _, out = post([]string{"b-2"}, incr(`, "idempotencyKey": "b-2"`))
	require.Equal(t, http.StatusOK, code, out)
	require.JSONEq(t, `{"result": 2}`, out)
	require.Equal(t, int64(2), count())

	for _, tt := range []struct {
		name    string
		headers []string
		extra   string
		want    string
	}{
		{"header and body differ", []string{"a"}, `, "idempotencyKey": "b"`, `header ("a") and the body's idempotencyKey ("b") differ`},
		{"empty header", []string{""}, "", "empty"},
		{"empty body key", nil, `, "idempotencyKey": ""`, "empty"},
		{"two headers", []string{"a", "a"}, "", "2 Idempotency-Key headers"},
		{"too long", nil, `, "idempotencyKey": "` + strings.Repeat("k", 257) + `"`, "want 1 to 256 bytes of UTF-8, got 257"},
		{"not UTF-8", []string{"\xff\xfe"}, "", "bad idempotency key"},
	} {
		code, e, out := post(tt.headers, incr(tt.extra))
		require.Equal(t, http.StatusBadRequest, code, "%s: %s", tt.name, out)
		require.Equal(t, control.CodeBadIdempotencyKey, e.Code, tt.name)
		require.Contains(t, e.Message, tt.want, tt.name)
	}
	require.Equal(t, int64(2), count(), "none of them was sent")
}

// failingTransport never gets an answer: it counts the attempts and
// fails each as a refused connection would.
type failingTransport struct {
	mu   sync.Mutex
	keys []string
	t    *testing.T
}

func (ft *failingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	ft.mu.Lock()
	ft.keys = append(ft.keys, keyOf(ft.t, string(body)))
	ft.mu.Unlock()
	return nil, fmt.Errorf("dial tcp: %w", syscall.ECONNREFUSED)
}

// Retries are bounded: Attempts in all, every one with the same key, the
// waits doubling from Backoff up to MaxBackoff (each drawn in its upper
// half); the error wraps ErrNoAnswer and the last transport error and
// names the key. An answer, even an error status, is not retried, nor is
// anything once ctx ends.
func TestRetryBounds(t *testing.T) {
	ctx := context.Background()
	ft := &failingTransport{t: t}
	var w waits
	c := &control.Client{Base: "http://127.0.0.1:1", Token: token, HTTP: &http.Client{Transport: ft},
		Retry: control.Retry{Attempts: 6, Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Wait: w.wait}}
	_, err := c.SendKey(ctx, "k-1", "ko1", "incr", nil)
	require.ErrorIs(t, err, control.ErrNoAnswer)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.ErrorContains(t, err, "gave up after 6 attempts (idempotency key k-1")
	require.Equal(t, []string{"k-1", "k-1", "k-1", "k-1", "k-1", "k-1"}, ft.keys)
	bounds := []time.Duration{10, 20, 40, 50, 50}
	require.Len(t, w.ds, len(bounds))
	for i, b := range bounds {
		b *= time.Millisecond
		require.GreaterOrEqual(t, w.ds[i], b/2, "wait %d", i)
		require.LessOrEqual(t, w.ds[i], b, "wait %d", i)
	}

	// Attempts 1: no retry.
	ft.keys = nil
	c.Retry.Attempts = 1
	_, err = c.Send(ctx, "ko1", "incr", nil)
	require.ErrorIs(t, err, control.ErrNoAnswer)
	require.Len(t, ft.keys, 1)

	// ctx ends while waiting: the retries stop, and say why.
	ft.keys = nil
	c.Retry.Attempts = 0 // the default
	cctx, cancel := context.WithCancel(ctx)
	c.Retry.Wait = func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }
	_, err = c.Send(cctx, "ko1", "incr", nil)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, control.ErrNoAnswer)
	require.Len(t, ft.keys, 1)

	// An answer is the server's word: not retried.
	f := newFixture(t)
	lt := &lossyTransport{inner: http.DefaultTransport}
	c = &control.Client{Base: f.srv.URL, Token: token, HTTP: &http.Client{Transport: lt}}
	_, err = c.Send(ctx, "ko999", "incr", nil)
	require.Equal(t, http.StatusNotFound, apiErr(t, err).Status)
	require.False(t, errors.Is(err, control.ErrNoAnswer))
	require.Len(t, lt.sent(), 1)
	require.Equal(t, control.DefaultAttempts, 5, "the documented default")
}
