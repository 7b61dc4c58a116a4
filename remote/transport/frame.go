package transport

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Frame is what one node sends another: one outbox message (Seq > 0) or
// none (Seq 0: an ack alone), with the sender's cumulative ack of the
// receiver's messages; or, alone, a refusal (Refusal: an issuer's
// stateless answer to a stranger's redeem, which belongs to no link, so
// it has no seq and acks nothing). It travels inside a protobuf BytesValue, a
// message type protoactor-go's default serializer already knows, so no
// generated code is needed; the bytes inside are themselves protobuf
// wire format (encodeFrame), written and read with protowire.
type Frame struct {
	From string // the sender's peer id (trusted only over plaintext)
	Seq  uint64 // the message's sequence number in the sender's outbox
	Ack  uint64 // the highest of the receiver's messages the sender applied, durably
	Msg  string // the encoded remote/wire message
	// Refusal is an encoded wire.Refusal; a frame that carries one
	// carries nothing else but From.
	Refusal string
}

// PeerHeader is the envelope header the server-side interceptor sets to
// the authenticated peer id of the stream (overwriting whatever the
// sender put there).
const PeerHeader = "ocap-peer"

// linkName is the actor name of every node's link actor: a peer is
// addressed as actor.NewPID(address, linkName).
const linkName = "ocap-link"

// A frame's fields, as protobuf field numbers: the bytes a frame carries
// are the message
//
//	message Frame { string from = 1; uint64 seq = 2; uint64 ack = 3; string msg = 4; string refusal = 5; }
//
// in its one canonical encoding: fields in this order, each at most once,
// none at its zero value, varints in their shortest form. A frame used to
// be JSON with the message as a JSON string inside it: escaped on one
// side, unescaped and parsed on the other, for every frame.
const (
	fieldFrom protowire.Number = 1
	fieldSeq  protowire.Number = 2
	fieldAck  protowire.Number = 3
	fieldMsg  protowire.Number = 4
	// fieldRefusal came after the first four: a node of an older build
	// refuses the field (unknown), which costs the redeemer only the
	// wait it had before refusals.
	fieldRefusal protowire.Number = 5
)

// maxFrameFrom bounds From: a peer id is 64 hex digits; anything much
// longer is not one.
const maxFrameFrom = 256

// errFrame is wrapped by every reason a frame is refused.
var errFrame = errors.New("transport: malformed frame")

func encodeFrame(f Frame) *wrapperspb.BytesValue {
	n := 0
	if f.From != "" {
		n += protowire.SizeTag(fieldFrom) + protowire.SizeBytes(len(f.From))
	}
	if f.Seq != 0 {
		n += protowire.SizeTag(fieldSeq) + protowire.SizeVarint(f.Seq)
	}
	if f.Ack != 0 {
		n += protowire.SizeTag(fieldAck) + protowire.SizeVarint(f.Ack)
	}
	if f.Msg != "" {
		n += protowire.SizeTag(fieldMsg) + protowire.SizeBytes(len(f.Msg))
	}
	if f.Refusal != "" {
		n += protowire.SizeTag(fieldRefusal) + protowire.SizeBytes(len(f.Refusal))
	}
	// One allocation, of the exact size.
	b := make([]byte, 0, n)
	if f.From != "" {
		b = protowire.AppendTag(b, fieldFrom, protowire.BytesType)
		b = protowire.AppendString(b, f.From)
	}
	if f.Seq != 0 {
		b = protowire.AppendTag(b, fieldSeq, protowire.VarintType)
		b = protowire.AppendVarint(b, f.Seq)
	}
	if f.Ack != 0 {
		b = protowire.AppendTag(b, fieldAck, protowire.VarintType)
		b = protowire.AppendVarint(b, f.Ack)
	}
	if f.Msg != "" {
		b = protowire.AppendTag(b, fieldMsg, protowire.BytesType)
		b = protowire.AppendString(b, f.Msg)
	}
	if f.Refusal != "" {
		b = protowire.AppendTag(b, fieldRefusal, protowire.BytesType)
		b = protowire.AppendString(b, f.Refusal)
	}
	return &wrapperspb.BytesValue{Value: b}
}

// decodeFrame reads a peer's frame, refusing anything but the canonical
// encoding of a well-formed one: a peer's bytes are not to be trusted, and
// one spelling per frame means nothing is read two ways.
func decodeFrame(v *wrapperspb.BytesValue) (Frame, error) {
	b := v.GetValue()
	var f Frame
	last := protowire.Number(0)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return Frame{}, fmt.Errorf("%w: field tag: %v", errFrame, protowire.ParseError(n))
		}
		// INVARIANT: known fields only, each once, in order.
		if num <= last {
			return Frame{}, fmt.Errorf("%w: field %d out of order or repeated", errFrame, num)
		}
		if n != protowire.SizeTag(num) {
			return Frame{}, fmt.Errorf("%w: field %d: tag not in its shortest form", errFrame, num)
		}
		last = num
		b = b[n:]
		switch num {
		case fieldFrom, fieldMsg, fieldRefusal:
			if typ != protowire.BytesType {
				return Frame{}, fmt.Errorf("%w: field %d: wire type %d, want bytes", errFrame, num, typ)
			}
			s, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return Frame{}, fmt.Errorf("%w: field %d: %v", errFrame, num, protowire.ParseError(n))
			}
			if n != protowire.SizeBytes(len(s)) {
				return Frame{}, fmt.Errorf("%w: field %d: length not in its shortest form", errFrame, num)
			}
			b = b[n:]
			switch {
			case len(s) == 0:
				return Frame{}, fmt.Errorf("%w: field %d is empty (an empty field is left out)", errFrame, num)
			case !utf8.Valid(s):
				return Frame{}, fmt.Errorf("%w: field %d is not UTF-8", errFrame, num)
			case num == fieldFrom && len(s) > maxFrameFrom:
				return Frame{}, fmt.Errorf("%w: from is %d bytes, longer than any peer id", errFrame, len(s))
			}
			switch num {
			case fieldFrom:
				f.From = string(s)
			case fieldMsg:
				f.Msg = string(s)
			default:
				f.Refusal = string(s)
			}
		case fieldSeq, fieldAck:
			if typ != protowire.VarintType {
				return Frame{}, fmt.Errorf("%w: field %d: wire type %d, want varint", errFrame, num, typ)
			}
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return Frame{}, fmt.Errorf("%w: field %d: %v", errFrame, num, protowire.ParseError(n))
			}
			if n != protowire.SizeVarint(x) {
				return Frame{}, fmt.Errorf("%w: field %d: varint not in its shortest form", errFrame, num)
			}
			if x == 0 {
				return Frame{}, fmt.Errorf("%w: field %d is 0 (a zero field is left out)", errFrame, num)
			}
			b = b[n:]
			if num == fieldSeq {
				f.Seq = x
			} else {
				f.Ack = x
			}
		default:
			// A field this build does not know would be silently dropped, and
			// a newer peer's meaning lost: refuse instead.
			return Frame{}, fmt.Errorf("%w: unknown field %d", errFrame, num)
		}
	}
	if f.Seq == 0 && f.Msg != "" {
		return Frame{}, fmt.Errorf("%w: a message without a sequence number", errFrame)
	}
	if f.Seq != 0 && f.Msg == "" {
		return Frame{}, fmt.Errorf("%w: a sequence number without a message", errFrame)
	}
	// INVARIANT: a refusal belongs to no link: it comes alone, never
	// with a message or an ack that a receiver could apply.
	if f.Refusal != "" && (f.Seq != 0 || f.Ack != 0) {
		return Frame{}, fmt.Errorf("%w: a refusal with a message or an ack", errFrame)
	}
	return f, nil
}
