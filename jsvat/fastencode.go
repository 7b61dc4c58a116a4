package jsvat

import (
	"encoding/json"
	"strconv"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// The deliver request's frame, written by hand. Every crank of a
// JavaScript vat encodes one, and encoding/json's reflection over the
// []any of deliveryParams was a tenth of the kernel's CPU per crank. The
// bytes are exactly those json.Marshal writes for the same request
// (encode_test.go checks it), so the worker sees no difference: a string
// of only plain ASCII is written here, and any other string goes through
// json.Marshal for its escaping (HTML characters, control characters,
// invalid UTF-8), which keeps the two encodings identical by
// construction rather than by a copy of encoding/json's rules.

// appendDeliverFrame appends the whole deliver request for d, newline
// included.
//
// INVARIANT: the frame is byte for byte what encodeRequest's json.Marshal
// would write; every string in it goes through appendString, so nothing
// from a delivery can break out of its JSON string.
func appendDeliverFrame(b []byte, id string, d vatproto.Delivery) ([]byte, error) {
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = appendString(b, id)
	b = append(b, `,"method":"deliver","params":`...)
	var err error
	if b, err = appendDelivery(b, d); err != nil {
		return nil, err
	}
	return append(b, '}', '\n'), nil
}

// appendDelivery appends deliveryParams(d) as JSON.
func appendDelivery(b []byte, d vatproto.Delivery) ([]byte, error) {
	switch d.Kind {
	case vatproto.DeliverMessage:
		b = append(b, `["message",`...)
		b = appendString(b, string(d.Target))
		b = append(b, `,{"methargs":`...)
		b = appendCapData(b, d.Message.Methargs)
		// Left out when there is none, as wireMessage's omitempty does.
		if d.Message.Result != "" {
			b = append(b, `,"result":`...)
			b = appendString(b, string(d.Message.Result))
		}
		return append(b, '}', ']'), nil
	case vatproto.DeliverNotify:
		b = append(b, `["notify",[`...)
		for i, r := range d.Resolutions {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = appendString(b, string(r.VPID))
			b = append(b, ',')
			b = strconv.AppendBool(b, r.Rejected)
			b = append(b, ',')
			b = appendCapData(b, r.Data)
			b = append(b, ']')
		}
		return append(b, ']', ']'), nil
	case vatproto.DeliverDropExports, vatproto.DeliverRetireExports, vatproto.DeliverRetireImports:
		b = append(b, '[')
		b = appendString(b, d.Kind.String())
		b = append(b, ',', '[')
		for i, v := range d.VRefs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, string(v))
		}
		return append(b, ']', ']'), nil
	case vatproto.DeliverBringOutYourDead:
		return append(b, `["bringOutYourDead"]`...), nil
	}
	// The same error deliveryParams gives.
	// One source for the error keeps the two encoders from disagreeing on
	// which kinds exist.
	_, err := deliveryParams(d)
	return nil, err
}

// appendCapData appends CapData as toWire has it: slots always a list.
func appendCapData(b []byte, c marshal.CapData) []byte {
	b = append(b, `{"body":`...)
	b = appendString(b, c.Body)
	b = append(b, `,"slots":[`...)
	for i, s := range c.Slots {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']', '}')
}

// appendString appends s as a JSON string, as json.Marshal writes it.
// Printable ASCII other than the HTML characters json.Marshal escapes is
// written as it is, with '"' and '\' escaped; a string with anything else
// is handed to json.Marshal whole.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		// Anything outside printable ASCII, and the HTML characters json.Marshal
		// escapes, is left to json.Marshal: its escaping of control characters,
		// invalid UTF-8 (as U+FFFD) and U+2028/U+2029 is not repeated here, so it
		// cannot drift from it.
		if c := s[i]; c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				// json.Marshal of a string cannot fail; keep the frame
				// well-formed whatever happens.
				// An empty string rather than an error: the frame stays valid JSON, and
				// the case cannot happen.
				return append(b, `""`...)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		// Only the quote and the backslash need escaping in printable ASCII; the
		// loop above has already sent any string with other bytes to json.Marshal.
		if c := s[i]; c == '"' || c == '\\' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', c)
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
