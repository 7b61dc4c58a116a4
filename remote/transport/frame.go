package transport

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Frame is what one node sends another: one outbox message (Seq > 0) or
// none (Seq 0: an ack alone), with the sender's cumulative ack of the
// receiver's messages. It travels as JSON inside a protobuf BytesValue,
// a message type protoactor-go's default serializer already knows, so no
// generated code is needed.
type Frame struct {
	From string `json:"from"`          // the sender's peer id (trusted only over plaintext)
	Seq  uint64 `json:"seq,omitempty"` // the message's sequence number in the sender's outbox
	Ack  uint64 `json:"ack,omitempty"` // the highest of the receiver's messages the sender applied, durably
	Msg  string `json:"msg,omitempty"` // the encoded remote/wire message
}

// PeerHeader is the envelope header the server-side interceptor sets to
// the authenticated peer id of the stream (overwriting whatever the
// sender put there).
const PeerHeader = "ocap-peer"

// linkName is the actor name of every node's link actor: a peer is
// addressed as actor.NewPID(address, linkName).
const linkName = "ocap-link"

func encodeFrame(f Frame) *wrapperspb.BytesValue {
	b, err := json.Marshal(f)
	if err != nil {
		panic(fmt.Sprintf("transport: encode frame: %v", err)) // strings and numbers only
	}
	return wrapperspb.Bytes(b)
}

func decodeFrame(v *wrapperspb.BytesValue) (Frame, error) {
	var f Frame
	if err := json.Unmarshal(v.GetValue(), &f); err != nil {
		return Frame{}, fmt.Errorf("transport: frame: %w", err)
	}
	if f.Seq == 0 && f.Msg != "" {
		return Frame{}, fmt.Errorf("transport: frame carries a message without a sequence number")
	}
	return f, nil
}
