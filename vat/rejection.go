package vat

import (
	"errors"
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
)

// A promise may be rejected with any passable value, not only an error
// (as in JavaScript, where `throw 42` and `reject(harden({code: 7}))` are
// both fine, and SwingSet passes the value as is). Go code rejects with an
// error, so the value travels inside one: Rejection wraps it, and a
// rejection with a value that is not an error arrives as a
// *RejectionError. Relaying one (returning the error of an Await) rejects
// with the same value again.

// RejectionError is a rejection whose value is not an error: made by
// Rejection to reject with Value, and what a vat meets when another
// rejected with such a value. Value is any passable value (a number, a
// record, a presence, ...), decoded as arguments are.
type RejectionError struct{ Value any }

func (e *RejectionError) Error() string { return fmt.Sprintf("rejected with %v", e.Value) }

// Rejection returns an error that, used to reject a promise, rejects it
// with v itself rather than with an error: as a method's error result, in
// a reject function (Call.NewPromise, Context.NewPromise, NewPromise), or
// as a Then callback's error. v must be passable; if it is not, the
// promise is rejected with a TypeError saying so.
//
//	return nil, vat.Rejection(map[string]any{"code": int64(7)})
func Rejection(v any) error { return &RejectionError{Value: v} }

// asError turns a rejection value that arrived into the error vat code
// sees: the error itself, or a *RejectionError holding the value.
func asError(v any) error {
	if err, ok := v.(error); ok {
		return err
	}
	return &RejectionError{Value: v}
}

// rejectionValue is what a rejection with err sends: the value of a
// *RejectionError (found through wrapping, as a *marshal.Error is), a
// *marshal.Error as it is, or any other error as an Error with its text.
func rejectionValue(err error) any {
	var re *RejectionError
	if errors.As(err, &re) {
		return re.Value
	}
	var me *marshal.Error
	if errors.As(err, &me) {
		return me
	}
	return &marshal.Error{Name: "Error", Message: err.Error()}
}
