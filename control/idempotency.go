package control

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/ocapgo/kernel-actors/kernel"
)

// Idempotency keys make a send through the API exactly-once for a client
// that retries: a client that lost the answer to a send (the connection
// broke, the daemon was killed, the client itself restarted) cannot know
// whether the kernel applied it, and sending it again without a key
// applies it twice whenever the first one had taken effect. With a key,
// the kernel records the key in the transaction that queues the message,
// so after any crash the key exists exactly when the message does; a retry
// with the same key and the same message queues nothing and is answered
// with the first send's result (waiting for it if it has not settled). A
// key sent with a different message is refused (409,
// IDEMPOTENCY_KEY_REUSED): the client has mixed up its keys, and
// answering it with another message's result would be a lie.
//
// A request carries its key in the Idempotency-Key header or in the
// body's idempotencyKey field; both at once must agree. The Go client
// sends it in the body, where any UTF-8 string survives JSON escaping (a
// header cannot carry a line break or, portably, non-ASCII text).

// IdempotencyHeader is the request header that may carry a send's
// idempotency key (the same key as the body's idempotencyKey).
const IdempotencyHeader = "Idempotency-Key"

// The API's codes for idempotency keys (docs/control-api.md).
const (
	// CodeBadIdempotencyKey (400): the key is empty, longer than
	// kernel.MaxIdempotencyKeyLen bytes or not UTF-8, the header is
	// repeated, or header and body disagree.
	CodeBadIdempotencyKey = "BAD_IDEMPOTENCY_KEY"
	// CodeIdempotencyKeyReused (409): the key was first sent with another
	// message (target, method or arguments differ); nothing was sent.
	CodeIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
)

// errBadKey marks a key the server refuses before the kernel sees it.
var errBadKey = errors.New("bad idempotency key")

// NewIdempotencyKey makes a fresh key for one logical send: 128 random
// bits from crypto/rand, in hex, so that two clients (or two sends of one
// client) never share one by chance.
func NewIdempotencyKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("control: idempotency key: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// sendKey finds a send's idempotency key: the Idempotency-Key header or
// the body's field (nil when absent), "" when the request has neither.
// A key given empty, a repeated header, or a header and a body that
// disagree are refused: each is a client that meant to send a key and
// would otherwise get a send that is not idempotent, or one that is
// idempotent under a key it does not know.
func sendKey(r *http.Request, body *string) (string, error) {
	hs := r.Header.Values(IdempotencyHeader)
	var key string
	switch {
	case len(hs) > 1:
		return "", fmt.Errorf("%w: %d %s headers; send one", errBadKey, len(hs), IdempotencyHeader)
	case len(hs) == 1 && body != nil && hs[0] != *body:
		return "", fmt.Errorf("%w: the %s header (%q) and the body's idempotencyKey (%q) differ; send one of them, or the same key in both",
			errBadKey, IdempotencyHeader, quoteShort(hs[0]), quoteShort(*body))
	case len(hs) == 1:
		key = hs[0]
	case body != nil:
		key = *body
	default:
		return "", nil
	}
	if key == "" {
		return "", fmt.Errorf("%w: empty (leave it out for a send without one)", errBadKey)
	}
	return key, nil // its length and encoding are the kernel's to check
}

// quoteShort keeps a key quoted in an error short.
func quoteShort(s string) string {
	const limit = 64
	if len(s) > limit {
		return s[:limit] + "..."
	}
	return s
}

// keyError reports whether err is about an idempotency key, with the
// APIError that answers it.
func keyError(err error) (*APIError, bool) {
	switch {
	case errors.Is(err, errBadKey), errors.Is(err, kernel.ErrBadIdempotencyKey):
		return &APIError{Status: http.StatusBadRequest, Code: CodeBadIdempotencyKey, Message: err.Error()}, true
	case errors.Is(err, kernel.ErrIdempotencyKeyReused):
		return &APIError{Status: http.StatusConflict, Code: CodeIdempotencyKeyReused, Message: err.Error()}, true
	}
	return nil, false
}
