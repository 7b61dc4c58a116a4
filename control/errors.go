package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/clusterfile"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/persistence"
)

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error APIError `json:"error"`
}

// APIError says what went wrong. Code is the kernel's code for rejections
// ("OBJECT_DELETED", "VAT_FATAL:ILLEGAL_SYSCALL", ...), the error's name
// for a vat's own rejection ("Error", "TypeError", ...), or one of this
// API's: "BAD_REQUEST", "UNAUTHORIZED", "NOT_FOUND", "TOO_LARGE",
// "METHOD_NOT_ALLOWED", "UNAVAILABLE", "TIMEOUT", "INTERNAL",
// "TOO_MANY_CONNECTIONS" for a connection over the limit (listen.go),
// "TOO_MANY_STREAMS" for an event stream over the console's (console.go),
// "NO_REMOTE", "REMOTE_GIVEN_UP" and "BAD_URL" from the remote and URL
// endpoints (remotes.go, urls.go), and
// CodeBadIdempotencyKey and CodeIdempotencyKeyReused (idempotency.go).
type APIError struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error says the message with its status and code, as the client
// commands print it.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d, %s)", e.Message, e.Status, e.Code)
}

// classify maps an error from the kernel to an HTTP status and a code.
// A message the kernel routed and rejected is 422: the request was
// understood, the target refused it.
func classify(err error) *APIError {
	var ke *kernel.Error
	var re *kernel.RejectionError
	var ce *clusterfile.Error
	var ae *APIError
	if e, ok := keyError(err); ok {
		return e
	}
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, kernel.ErrBadRef), errors.Is(err, errBadValue), errors.Is(err, kernel.ErrBadConfig),
		errors.Is(err, kernel.ErrPromiseNotRevocable), errors.As(err, &ce),
		// An argument JSON can say but the kernel cannot pass (an integer
		// beyond 2^53, nesting too deep): the request's fault, not ours.
		errors.Is(err, marshal.ErrUnpassable):
		return &APIError{Status: http.StatusBadRequest, Code: "BAD_REQUEST", Message: err.Error()}
	case errors.Is(err, actors.ErrNoRemote):
		// The remote endpoints on a kernel that is not on the network.
		return &APIError{Status: http.StatusConflict, Code: "NO_REMOTE",
			Message: err.Error() + "; start serve with --remote-listen HOST:PORT"}
	case errors.Is(err, kernel.ErrBadURL):
		// The parser names the part that is wrong, never the object id.
		return &APIError{Status: http.StatusBadRequest, Code: "BAD_URL", Message: err.Error()}
	case errors.Is(err, kernel.ErrRemoteGivenUp):
		return &APIError{Status: http.StatusConflict, Code: "REMOTE_GIVEN_UP", Message: err.Error()}
	case errors.Is(err, kernel.ErrUnknownRef), errors.Is(err, kernel.ErrUnknownVat), errors.Is(err, kernel.ErrUnknownSubcluster),
		errors.Is(err, kernel.ErrUnknownRemote):
		return &APIError{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: err.Error()}
	case errors.Is(err, kernel.ErrVatFault):
		return &APIError{Status: http.StatusUnprocessableEntity, Code: "VAT_FAULT", Message: err.Error()}
	case errors.Is(err, actors.ErrVatNotRunning):
		return &APIError{Status: http.StatusConflict, Code: "VAT_NOT_RUNNING", Message: err.Error()}
	case errors.Is(err, kernel.ErrVatNotActive):
		return &APIError{Status: http.StatusConflict, Code: "VAT_TERMINATED", Message: err.Error()}
	case errors.As(err, &ke):
		code := string(ke.Code)
		if ke.Fatal {
			code = "VAT_FATAL:" + code
		}
		return &APIError{Status: http.StatusUnprocessableEntity, Code: code, Message: err.Error()}
	case errors.As(err, &re):
		name := re.Name
		if name == "" {
			name = "REJECTED"
		}
		return &APIError{Status: http.StatusUnprocessableEntity, Code: name, Message: err.Error()}
	case errors.Is(err, actors.ErrStopped), errors.Is(err, persistence.ErrFailed):
		// The kernel has stopped, or its store failed under this very
		// request (and the kernel stops with it): a restart resumes it.
		return &APIError{Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE", Message: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return &APIError{Status: http.StatusGatewayTimeout, Code: "TIMEOUT", Message: err.Error()}
	}
	return &APIError{Status: http.StatusInternalServerError, Code: "INTERNAL", Message: err.Error()}
}
