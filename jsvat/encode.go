package jsvat

import (
	"encoding/json"
	"fmt"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// What the kernel writes to a worker: requests (initVat, deliver, ping)
// with their params in the reference's shapes. The kernel's own values
// need no checking, only a faithful encoding: CapData with its slots as a
// list (never null), a message's result left out when it has none.

// wireCapData is CapData as the protocol writes it.
type wireCapData struct {
	Body  string   `json:"body"`
	Slots []string `json:"slots"`
}

func toWire(c marshal.CapData) wireCapData {
	// The kernel's nil slots are written as [], never null: liveslots reads
	// slots as an array, and a null would make a vat fail on the kernel's
	// encoding rather than on anything it did.
	slots := c.Slots
	if slots == nil {
		slots = []string{}
	}
	return wireCapData{Body: c.Body, Slots: slots}
}

// wireMessage is a delivered message.
// Result is a pointer, so "no result" is left out rather than sent as
// "": the same form the kernel refuses from a worker (decodeSyscall).
type wireMessage struct {
	Methargs wireCapData `json:"methargs"`
	Result   *string     `json:"result,omitempty"`
}

// request is a JSON-RPC request from the kernel.
type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      string `json:"id"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

// encodeRequest makes the frame of a request, newline included.
// A delivery (params a vatproto.Delivery, method "deliver") is written by
// appendDeliverFrame, without reflection.
func encodeRequest(id, method string, params any) ([]byte, error) {
	// Both paths make the same bytes (fastencode.go); this one is for callers
	// that do not keep a buffer.
	if d, ok := params.(vatproto.Delivery); ok && method == "deliver" {
		return appendDeliverFrame(make([]byte, 0, 256), id, d)
	}
	b, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func vrefStrings(vs []vatproto.VRef) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// deliveryParams is the reference's VatDeliveryObject for d (startVat
// goes through initVat instead).
func deliveryParams(d vatproto.Delivery) ([]any, error) {
	switch d.Kind {
	case vatproto.DeliverMessage:
		m := wireMessage{Methargs: toWire(d.Message.Methargs)}
		if d.Message.Result != "" {
			r := string(d.Message.Result)
			m.Result = &r
		}
		return []any{"message", string(d.Target), m}, nil
	case vatproto.DeliverNotify:
		rs := make([]any, len(d.Resolutions))
		for i, r := range d.Resolutions {
			rs[i] = []any{string(r.VPID), r.Rejected, toWire(r.Data)}
		}
		return []any{"notify", rs}, nil
	case vatproto.DeliverDropExports, vatproto.DeliverRetireExports, vatproto.DeliverRetireImports:
		return []any{d.Kind.String(), vrefStrings(d.VRefs)}, nil
	case vatproto.DeliverBringOutYourDead:
		return []any{"bringOutYourDead"}, nil
	}
	// startVat (sent as initVat) and any kind added to vatproto later land
	// here: the delivery fails as the kernel's encoding error rather than
	// sending a frame the worker would misread.
	return nil, fmt.Errorf("jsvat: delivery kind %v has no wire form", d.Kind)
}
