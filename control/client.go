package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ocapgo/kernel-actors/inspect"
	"github.com/ocapgo/kernel-actors/kernel"
)

// Client calls a control API.
type Client struct {
	// Base is the server's address, e.g. "http://127.0.0.1:7411".
	Base string
	// Token is the bearer token.
	Token string
	// HTTP is the client to use; nil means http.DefaultClient.
	HTTP *http.Client
	// Retry bounds the retries of a send whose answer was lost (retry.go);
	// the zero value retries DefaultAttempts times.
	Retry Retry
}

// do sends a request and decodes a 2xx answer into out (when not nil); any
// other answer is an *APIError.
func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("control: encode request: %w", err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Base, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// No status line: the request may have reached the kernel or not.
		return fmt.Errorf("control: %s %s: %w: %w", method, path, ErrNoAnswer, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		// Cut off mid-answer: a 200 whose result did not arrive is as
		// lost as no answer at all.
		return fmt.Errorf("control: %s %s: read answer: %w: %w", method, path, ErrNoAnswer, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb ErrorBody
		if json.Unmarshal(data, &eb) != nil || eb.Error.Code == "" {
			return &APIError{Status: resp.StatusCode, Code: "HTTP", Message: strings.TrimSpace(string(data))}
		}
		return &eb.Error
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("control: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// Status fetches the kernel's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	return st, c.do(ctx, http.MethodGet, "/v1/status", nil, &st)
}

// Vats lists the vats.
func (c *Client) Vats(ctx context.Context) ([]Vat, error) {
	var vs []Vat
	return vs, c.do(ctx, http.MethodGet, "/v1/vats", nil, &vs)
}

// Launch launches the subcluster whose config (JSON or YAML text) is cfg.
func (c *Client) Launch(ctx context.Context, cfg []byte) (LaunchResponse, error) {
	var out LaunchResponse
	return out, c.do(ctx, http.MethodPost, "/v1/subclusters", cfg, &out)
}

// TerminateSubcluster terminates a subcluster and its vats.
func (c *Client) TerminateSubcluster(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/subclusters/"+url.PathEscape(id), nil, nil)
}

// Send sends method(args...) to target and returns the result as JSON.
// Args are JSON values ({"@kref": ...} for references). Each call is one
// logical send under a fresh idempotency key (NewIdempotencyKey): if its
// answer is lost, it is sent again with that key as c.Retry allows, and
// applies once however many attempts reach the kernel.
func (c *Client) Send(ctx context.Context, target, method string, args []any) (json.RawMessage, error) {
	key, err := NewIdempotencyKey()
	if err != nil {
		return nil, err
	}
	return c.SendKey(ctx, key, target, method, args)
}

// SendKey is Send under the caller's idempotency key. A caller that keeps
// the key can send again after it lost the answer, however late (after
// its own crash, or the daemon's): the kernel queues nothing the second
// time and answers with the first send's result, waiting for it if it has
// not settled. The same key with another message is refused (an
// *APIError with Code CodeIdempotencyKeyReused, status 409). The kernel
// keeps the newest keys (10,000 by default); a key older than that
// applies again.
func (c *Client) SendKey(ctx context.Context, key, target, method string, args []any) (json.RawMessage, error) {
	if key == "" {
		return nil, fmt.Errorf("control: send: %w: empty", kernel.ErrBadIdempotencyKey)
	}
	if args == nil {
		args = []any{}
	}
	// Encoded once: every attempt must be the same message, byte for
	// byte, or the kernel would take it for another under the same key.
	body, err := json.Marshal(SendRequest{Target: target, Method: method, Args: args, IdempotencyKey: &key})
	if err != nil {
		return nil, fmt.Errorf("control: encode request: %w", err)
	}
	var out SendResponse
	err = c.Retry.retry(ctx, key, func() error {
		out = SendResponse{}
		return c.do(ctx, http.MethodPost, "/v1/send", body, &out)
	})
	return out.Result, err
}

// TerminateVat terminates a vat.
func (c *Client) TerminateVat(ctx context.Context, id, reason string) error {
	return c.do(ctx, http.MethodPost, "/v1/vats/"+url.PathEscape(id)+"/terminate", TerminateRequest{Reason: reason}, nil)
}

// RestartVat restarts a vat and returns its new incarnation.
func (c *Client) RestartVat(ctx context.Context, id string) (int64, error) {
	var out PingResponse
	return out.Incarnation, c.do(ctx, http.MethodPost, "/v1/vats/"+url.PathEscape(id)+"/restart", nil, &out)
}

// UpgradeVat restarts a vat on new code and returns its new incarnation.
func (c *Client) UpgradeVat(ctx context.Context, id, bundle string) (int64, error) {
	var out PingResponse
	return out.Incarnation, c.do(ctx, http.MethodPost, "/v1/vats/"+url.PathEscape(id)+"/upgrade", UpgradeRequest{Bundle: bundle}, &out)
}

// UpgradeJSVat restarts a JavaScript vat on the code of bundleSpec (an
// absolute path or a file:// URL: the daemon resolves a relative one in
// its own working directory), with globals, and returns its new
// incarnation.
func (c *Client) UpgradeJSVat(ctx context.Context, id, bundleSpec string, globals []string) (int64, error) {
	var out PingResponse
	return out.Incarnation, c.do(ctx, http.MethodPost, "/v1/vats/"+url.PathEscape(id)+"/upgrade",
		UpgradeRequest{BundleSpec: bundleSpec, Globals: globals}, &out)
}

// PingVat returns a vat's incarnation if its actor answers.
func (c *Client) PingVat(ctx context.Context, id string) (int64, error) {
	var out PingResponse
	return out.Incarnation, c.do(ctx, http.MethodGet, "/v1/vats/"+url.PathEscape(id)+"/ping", nil, &out)
}

// VatLog returns a vat's lifecycle log.
func (c *Client) VatLog(ctx context.Context, id string) ([]VatEvent, error) {
	var out []VatEvent
	return out, c.do(ctx, http.MethodGet, "/v1/vats/"+url.PathEscape(id)+"/log", nil, &out)
}

// Revoke revokes an object.
func (c *Client) Revoke(ctx context.Context, kref string) error {
	return c.do(ctx, http.MethodPost, "/v1/revoke", KRefRequest{KRef: kref}, nil)
}

// Release lets go of an object a result gave the host.
func (c *Client) Release(ctx context.Context, kref string) error {
	return c.do(ctx, http.MethodPost, "/v1/release", KRefRequest{KRef: kref}, nil)
}

// Inspect fetches the inspector's report.
func (c *Client) Inspect(ctx context.Context) (inspect.Report, error) {
	var out inspect.Report
	return out, c.do(ctx, http.MethodGet, "/v1/inspect", nil, &out)
}
