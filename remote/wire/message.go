package wire

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ocapgo/kernel-actors/remote/ocapurl"
)

// Kind is what a message asks of its receiver.
type Kind string

// Message kinds. The GC kinds are named for what the sender did, as the
// kernel's GC deliveries are: dropExports tells the owner of objects that
// the sender no longer reaches them, and so on (docs/remote.md).
const (
	KindDeliver       Kind = "deliver"       // a send: target, methargs, optional result
	KindNotify        Kind = "notify"        // settlements of promises the sender decides
	KindDropExports   Kind = "dropExports"   // the sender no longer reaches these objects of the receiver
	KindRetireExports Kind = "retireExports" // the sender forgot these objects of the receiver
	KindRetireImports Kind = "retireImports" // these objects of the sender are gone
	// KindRedeem asks the receiver for the object an OCAP URL it issued
	// names: oid is the URL's object id, result a promise the sender
	// allocates, which the receiver settles with the object or rejects.
	KindRedeem Kind = "redeem"
)

// Data is a CapData value on the wire: a smallcaps body the transport
// never parses, and its slots as remote refs.
type Data struct {
	Body  string   `json:"body"`
	Slots []string `json:"slots,omitempty"`
}

// Resolution is one settlement in a notify.
type Resolution struct {
	Promise  string `json:"promise"`
	Rejected bool   `json:"rejected,omitempty"`
	Data     Data   `json:"data"`
}

// Message is one message from a kernel to a peer, as the outbox holds it
// and the wire carries it. Which fields are set depends on Kind.
type Message struct {
	Kind        Kind         `json:"kind"`
	Target      string       `json:"target,omitempty"`   // deliver
	Methargs    *Data        `json:"methargs,omitempty"` // deliver
	Result      string       `json:"result,omitempty"`   // deliver, optional: a promise the sender allocates
	Resolutions []Resolution `json:"resolutions,omitempty"`
	Refs        []string     `json:"refs,omitempty"` // GC kinds: objects
	OID         string       `json:"oid,omitempty"`  // redeem: an OCAP URL's object id
	// Reply is, on a redeem, the sender's own address (host:port, as
	// ocapurl.CheckAddress has it): where an issuer that has never met
	// the sender answers it. The issuer takes it only from a redeem that
	// introduces a new peer (docs/remote.md, "Introductions").
	Reply string `json:"reply,omitempty"`
	// Known is, for every kind, the highest of the receiver's messages
	// the sender had applied when it wrote this one (not when it sent
	// it: a resend keeps it). The receiver forgets a promise it retired
	// with a notify only once a message shows the sender knew of the
	// notify: until then the sender may name the promise (a send
	// pipelined on it that crossed the notify on the link).
	Known uint64 `json:"known,omitempty"`
}

// Encode is m's encoding: JSON, which the outbox stores as text and a
// person can read with sqlite3.
func (m Message) Encode() string {
	b, err := json.Marshal(m)
	if err != nil {
		// Only strings, bools and slices of them: Marshal cannot fail.
		panic(fmt.Sprintf("wire: encode a message: %v", err))
	}
	return string(b)
}

// Decode parses and checks one message. Every ref is checked to parse and
// to be of the kind its place needs (a target an object or a promise, a
// result a promise, GC refs objects); the meaning of each ref (whether
// the receiver knows it) is the kernel's to check.
func Decode(s string) (Message, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	// A field this build does not know would be silently dropped, and a
	// newer peer's meaning lost: refuse instead.
	dec.DisallowUnknownFields()
	var m Message
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return Message{}, fmt.Errorf("%w: data after the message", ErrMalformed)
	}
	if err := m.check(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// check refuses a message that is not one of the kinds' shapes.
func (m Message) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s message: %s", ErrMalformed, m.Kind, fmt.Sprintf(format, args...))
	}
	if (m.OID != "" || m.Reply != "") && m.Kind != KindRedeem {
		return bad("carries fields of another kind")
	}
	switch m.Kind {
	case KindDeliver:
		if m.Resolutions != nil || m.Refs != nil {
			return bad("carries fields of another kind")
		}
		if m.Methargs == nil {
			return bad("no methargs")
		}
		if _, err := ParseRef(m.Target); err != nil {
			return bad("target: %v", err)
		}
		if err := checkSlots(m.Methargs.Slots); err != nil {
			return bad("methargs: %v", err)
		}
		if m.Result != "" {
			if r, err := ParseRef(m.Result); err != nil || !r.Promise {
				return bad("result %q is not a promise ref", m.Result)
			}
		}
	case KindNotify:
		if m.Target != "" || m.Methargs != nil || m.Result != "" || m.Refs != nil {
			return bad("carries fields of another kind")
		}
		if len(m.Resolutions) == 0 {
			return bad("no resolutions")
		}
		for i, r := range m.Resolutions {
			if p, err := ParseRef(r.Promise); err != nil || !p.Promise {
				return bad("resolution %d: %q is not a promise ref", i, r.Promise)
			}
			if err := checkSlots(r.Data.Slots); err != nil {
				return bad("resolution %d: %v", i, err)
			}
		}
	case KindDropExports, KindRetireExports, KindRetireImports:
		if m.Target != "" || m.Methargs != nil || m.Result != "" || m.Resolutions != nil {
			return bad("carries fields of another kind")
		}
		if len(m.Refs) == 0 {
			return bad("no refs")
		}
		for _, s := range m.Refs {
			if r, err := ParseRef(s); err != nil || r.Promise {
				return bad("%q is not an object ref", s)
			}
		}
	case KindRedeem:
		if m.Target != "" || m.Methargs != nil || m.Resolutions != nil || m.Refs != nil {
			return bad("carries fields of another kind")
		}
		if err := ocapurl.CheckOID(m.OID); err != nil {
			return bad("%v", err)
		}
		// Optional (a peer that knows the receiver needs none), but when
		// present in the one spelling an OCAP URL's address has.
		if m.Reply != "" {
			if err := ocapurl.CheckAddress(m.Reply); err != nil {
				return bad("reply address: %v", err)
			}
		}
		// The answer is the whole point: a redeem always has a result.
		if r, err := ParseRef(m.Result); err != nil || !r.Promise {
			return bad("result %q is not a promise ref", m.Result)
		}
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrMalformed, m.Kind)
	}
	return nil
}

// checkSlots checks that every slot parses as a remote ref; whether the
// receiver knows it is the kernel's question.
func checkSlots(slots []string) error {
	for i, s := range slots {
		if _, err := ParseRef(s); err != nil {
			return fmt.Errorf("slot %d: %w", i, err)
		}
	}
	return nil
}
