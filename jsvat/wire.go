package jsvat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// The wire side of the vat protocol (docs/vat-protocol.md): frames are
// JSON-RPC 2.0 messages, one per line. What the worker sends is checked
// here field by field before the kernel sees any of it: the worker runs
// code the kernel does not trust, so every frame is hostile until it has
// the exact shape the protocol gives it. Anything else is ErrProtocol.
// The meaning of what passes (is this vref in the c-list, is this
// resolution allowed) is the kernel's to judge, as for any vat's syscall.

// frameReader reads newline-ended frames of at most max bytes (the
// newline included). It checks the limit against what has arrived, not
// against a full buffer: a worker that writes a long frame and then waits
// is caught as soon as the limit is passed.
type frameReader struct {
	r          io.Reader
	max        int
	buf        []byte
	start, end int // buf[start:end] is read but not yet returned
	scanned    int // buf[start:scanned] has no newline
}

func newFrameReader(r io.Reader, max int) *frameReader {
	return &frameReader{r: r, max: max, buf: make([]byte, min(frameBuffer, max+1))}
}

// next returns the next frame without its newline. The slice is valid
// until the next call.
func (fr *frameReader) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(fr.buf[fr.scanned:fr.end], '\n'); i >= 0 {
			line := fr.buf[fr.start : fr.scanned+i]
			fr.start = fr.scanned + i + 1
			fr.scanned = fr.start
			return line, nil
		}
		fr.scanned = fr.end
		if fr.end-fr.start >= fr.max {
			return nil, fmt.Errorf("%w: a frame of more than %d bytes (the limit, Options.MaxFrame)", ErrProtocol, fr.max)
		}
		if fr.end == len(fr.buf) {
			// Make room: move the partial frame to the front, and grow the
			// buffer (never past one frame) if it is still full.
			n := copy(fr.buf, fr.buf[fr.start:fr.end])
			fr.scanned -= fr.start
			fr.start, fr.end = 0, n
			if n == len(fr.buf) {
				grown := make([]byte, min(2*len(fr.buf), fr.max+1))
				copy(grown, fr.buf[:n])
				fr.buf = grown
			}
		}
		n, err := fr.r.Read(fr.buf[fr.end:])
		fr.end += n
		if err != nil && n == 0 {
			if errors.Is(err, io.EOF) && fr.end > fr.start {
				return nil, fmt.Errorf("%w: %d bytes of a frame with no newline", io.ErrUnexpectedEOF, fr.end-fr.start)
			}
			return nil, err
		}
	}
}

// inbound is one decoded frame from the worker: exactly one of err,
// syscall, resp or log is set.
type inbound struct {
	err     error
	syscall *vatproto.Syscall
	resp    *response
	log     *logEntry
}

// response answers one of the kernel's requests.
type response struct {
	id     string          // the request's id, as sent
	result json.RawMessage // on success
	err    *rpcError       // on failure
}

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// logEntry is the entry of a log notification.
type logEntry struct {
	Level   string   `json:"level"`
	Tags    []string `json:"tags"`
	Message string   `json:"message"`
	Data    any      `json:"data,omitempty"`
}

// envelope is a JSON-RPC 2.0 message as the worker may send it.
type envelope struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  *string         `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   json.RawMessage `json:"error"`
}

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// strict decodes one JSON value into v, refusing unknown fields and
// anything after the value.
func strict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the value")
	}
	return nil
}

// decodeInbound checks and decodes one frame.
func decodeInbound(line []byte) inbound {
	// Go's decoder would quietly turn invalid UTF-8 into U+FFFD; a frame
	// that is not UTF-8 is the worker's fault, and named as such.
	if !utf8.Valid(line) {
		return inbound{err: protoErr("a frame that is not valid UTF-8")}
	}
	var env envelope
	if err := strict(line, &env); err != nil {
		return inbound{err: protoErr("a frame that is not a JSON-RPC message: %v (%s)", err, abbrev(line))}
	}
	if env.JSONRPC != "2.0" {
		return inbound{err: protoErr(`a frame without "jsonrpc": "2.0" (%s)`, abbrev(line))}
	}
	if env.Method != nil {
		if env.ID != nil || env.Result != nil || env.Error != nil {
			return inbound{err: protoErr("a request or malformed notification %q (%s): the kernel takes only notifications and responses", *env.Method, abbrev(line))}
		}
		switch *env.Method {
		case "syscall":
			s, err := decodeSyscall(env.Params)
			if err != nil {
				return inbound{err: protoErr("syscall %s: %v", abbrev(env.Params), err)}
			}
			return inbound{syscall: &s}
		case "notify":
			e, err := decodeLog(env.Params)
			if err != nil {
				return inbound{err: protoErr("notify %s: %v", abbrev(env.Params), err)}
			}
			return inbound{log: e}
		default:
			return inbound{err: protoErr("a notification of unknown method %q", *env.Method)}
		}
	}
	if env.Params != nil {
		return inbound{err: protoErr("a response with params (%s)", abbrev(line))}
	}
	var id string
	if len(env.ID) == 0 || env.ID[0] != '"' || json.Unmarshal(env.ID, &id) != nil {
		if env.Error != nil {
			// The worker could not tell which request it answers (it could
			// not read one): say what it said.
			var e rpcError
			_ = json.Unmarshal(env.Error, &e)
			return inbound{err: protoErr("an error for no request: %q", e.Message)}
		}
		return inbound{err: protoErr("a response whose id is not a string (%s)", abbrev(line))}
	}
	switch {
	case env.Result != nil && env.Error != nil, env.Result == nil && env.Error == nil:
		return inbound{err: protoErr("a response with not exactly one of result and error (%s)", abbrev(line))}
	case env.Error != nil:
		var e rpcError
		if err := strict(env.Error, &e); err != nil {
			return inbound{err: protoErr("a response with a malformed error: %v", err)}
		}
		return inbound{resp: &response{id: id, err: &e}}
	}
	return inbound{resp: &response{id: id, result: env.Result}}
}

// abbrev shows the start of a frame in an error: enough to recognize it,
// never a whole frame of megabytes in the log.
func abbrev(b []byte) string {
	const n = 120
	if len(b) <= n {
		return string(b)
	}
	s := b[:n]
	for len(s) > 0 && !utf8.Valid(s) {
		s = s[:len(s)-1]
	}
	return string(s) + "…(" + strconv.Itoa(len(b)) + " bytes)"
}

func decodeLog(params json.RawMessage) (*logEntry, error) {
	p, err := list(params, "params")
	if err != nil || len(p) != 2 {
		return nil, errors.New(`want ["logger", entry]`)
	}
	tag, err1 := str(p[0], "tag")
	text, err2 := str(p[1], "entry")
	if err1 != nil || err2 != nil || tag != "logger" {
		return nil, errors.New(`want ["logger", entry], entry a JSON text`)
	}
	var e logEntry
	if err := strict([]byte(text), &e); err != nil {
		return nil, fmt.Errorf("entry: %v", err)
	}
	switch e.Level {
	case "debug", "info", "log", "warn", "error":
	default:
		return nil, fmt.Errorf("entry: unknown level %q", e.Level)
	}
	if len(e.Message) > maxLogMessage {
		e.Message = e.Message[:maxLogMessage] + "…(cut)"
	}
	return &e, nil
}

// maxLogMessage bounds a log entry's message as the kernel writes it, in
// bytes: the worker cuts at 16 Ki UTF-16 units, which is up to 48 KiB.
const maxLogMessage = 64 << 10

// wireCapData is CapData as the protocol writes it.
type wireCapData struct {
	Body  string   `json:"body"`
	Slots []string `json:"slots"`
}

func (c *wireCapData) capData() marshal.CapData { return marshal.CapData{Body: c.Body, Slots: c.Slots} }

func toWire(c marshal.CapData) wireCapData {
	slots := c.Slots
	if slots == nil {
		slots = []string{}
	}
	return wireCapData{Body: c.Body, Slots: slots}
}

// wireMessage is a message (a delivery's or a send's).
type wireMessage struct {
	Methargs wireCapData `json:"methargs"`
	Result   *string     `json:"result,omitempty"`
}

// decodeTuple reads a JSON array of exactly n elements.
func decodeTuple(data json.RawMessage, n int) ([]json.RawMessage, error) {
	t, err := list(data, "tuple")
	if err != nil {
		return nil, err
	}
	if len(t) != n {
		return nil, fmt.Errorf("want %d elements, got %d", n, len(t))
	}
	return t, nil
}

// The primitive readers check the JSON type first: encoding/json decodes
// null into a string or a bool without complaint (as "" or false), and a
// null where the protocol wants a value is the worker's error.

func str(data json.RawMessage, what string) (string, error) {
	var s string
	if len(data) == 0 || data[0] != '"' || strict(data, &s) != nil {
		return "", fmt.Errorf("%s: want a string", what)
	}
	return s, nil
}

func boolean(data json.RawMessage, what string) (bool, error) {
	switch string(data) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%s: want a boolean", what)
}

func list(data json.RawMessage, what string) ([]json.RawMessage, error) {
	var l []json.RawMessage
	if len(data) == 0 || data[0] != '[' || strict(data, &l) != nil {
		return nil, fmt.Errorf("%s: want a list", what)
	}
	return l, nil
}

func strs(data json.RawMessage, what string) ([]string, error) {
	l, err := list(data, what)
	if err != nil {
		return nil, fmt.Errorf("%s: want a list of strings", what)
	}
	out := make([]string, len(l))
	for i, e := range l {
		if out[i], err = str(e, what); err != nil {
			return nil, fmt.Errorf("%s: item %d: want a string", what, i)
		}
	}
	return out, nil
}

func object(data json.RawMessage, what string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if len(data) == 0 || data[0] != '{' || strict(data, &m) != nil {
		return nil, fmt.Errorf("%s: want an object", what)
	}
	return m, nil
}

func capdata(data json.RawMessage, what string) (marshal.CapData, error) {
	fields, err := object(data, what)
	if err != nil || len(fields) != 2 || fields["body"] == nil || fields["slots"] == nil {
		return marshal.CapData{}, fmt.Errorf("%s: want {body, slots}", what)
	}
	body, err := str(fields["body"], what+".body")
	if err != nil {
		return marshal.CapData{}, err
	}
	slots, err := strs(fields["slots"], what+".slots")
	if err != nil {
		return marshal.CapData{}, err
	}
	if len(slots) == 0 {
		slots = nil // the kernel's form of none
	}
	return marshal.CapData{Body: body, Slots: slots}, nil
}

func resolutions(data json.RawMessage) ([]vatproto.VatResolution, error) {
	items, err := list(data, "resolutions")
	if err != nil {
		return nil, err
	}
	out := make([]vatproto.VatResolution, 0, len(items))
	for i, it := range items {
		t, err := decodeTuple(it, 3)
		if err != nil {
			return nil, fmt.Errorf("resolution %d: %v", i, err)
		}
		var r vatproto.VatResolution
		vpid, err := str(t[0], "vpid")
		if err != nil {
			return nil, fmt.Errorf("resolution %d: %v", i, err)
		}
		r.VPID = vatproto.VRef(vpid)
		if r.Rejected, err = boolean(t[1], "rejected"); err != nil {
			return nil, fmt.Errorf("resolution %d: %v", i, err)
		}
		if r.Data, err = capdata(t[2], "data"); err != nil {
			return nil, fmt.Errorf("resolution %d: %v", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// syscallArity is the tuple length of each syscall the wire carries.
var syscallArity = map[string]int{
	"send": 3, "subscribe": 2, "resolve": 2, "exit": 3,
	"dropImports": 2, "retireImports": 2, "retireExports": 2, "abandonExports": 2,
}

var vrefsKinds = map[string]vatproto.SyscallKind{
	"dropImports":    vatproto.SyscallDropImports,
	"retireImports":  vatproto.SyscallRetireImports,
	"retireExports":  vatproto.SyscallRetireExports,
	"abandonExports": vatproto.SyscallAbandonExports,
}

// decodeSyscall reads a syscall's params: the reference's
// VatSyscallObject tuple.
func decodeSyscall(params json.RawMessage) (vatproto.Syscall, error) {
	head, err := list(params, "syscall")
	if err != nil || len(head) == 0 {
		return vatproto.Syscall{}, errors.New("want [kind, ...]")
	}
	kind, err := str(head[0], "kind")
	if err != nil {
		return vatproto.Syscall{}, err
	}
	n, ok := syscallArity[kind]
	if !ok {
		switch kind {
		case "vatstoreGet", "vatstoreSet", "vatstoreGetNextKey", "vatstoreDelete":
			return vatproto.Syscall{}, fmt.Errorf("%s does not cross the wire: the worker keeps the vatstore and returns its changes with each delivery's result", kind)
		}
		return vatproto.Syscall{}, fmt.Errorf("unknown syscall %q", kind)
	}
	if len(head) != n {
		return vatproto.Syscall{}, fmt.Errorf("%s: want %d elements, got %d", kind, n, len(head))
	}
	switch kind {
	case "send":
		target, err := str(head[1], "target")
		if err != nil {
			return vatproto.Syscall{}, err
		}
		fields, err := object(head[2], "message")
		if err != nil {
			return vatproto.Syscall{}, err
		}
		m := vatproto.VatMessage{}
		for k, v := range fields {
			switch k {
			case "methargs":
				if m.Methargs, err = capdata(v, "methargs"); err != nil {
					return vatproto.Syscall{}, err
				}
			case "result":
				// null or absent: a sendOnly.
				if string(v) != "null" {
					r, err := str(v, "result")
					if err != nil {
						return vatproto.Syscall{}, err
					}
					if r == "" {
						return vatproto.Syscall{}, errors.New(`result: "" is not a vpid (leave it out for none)`)
					}
					m.Result = vatproto.VRef(r)
				}
			default:
				return vatproto.Syscall{}, fmt.Errorf("message: unknown field %q", k)
			}
		}
		if fields["methargs"] == nil {
			return vatproto.Syscall{}, errors.New("message: methargs missing")
		}
		return vatproto.Syscall{Kind: vatproto.SyscallSend, Target: vatproto.VRef(target), Message: m}, nil
	case "subscribe":
		vpid, err := str(head[1], "vpid")
		if err != nil {
			return vatproto.Syscall{}, err
		}
		return vatproto.Syscall{Kind: vatproto.SyscallSubscribe, VPID: vatproto.VRef(vpid)}, nil
	case "resolve":
		rs, err := resolutions(head[1])
		if err != nil {
			return vatproto.Syscall{}, err
		}
		return vatproto.Syscall{Kind: vatproto.SyscallResolve, Resolutions: rs}, nil
	case "exit":
		failure, err := boolean(head[1], "isFailure")
		if err != nil {
			return vatproto.Syscall{}, err
		}
		info, err := capdata(head[2], "info")
		if err != nil {
			return vatproto.Syscall{}, err
		}
		return vatproto.Syscall{Kind: vatproto.SyscallExit, Failure: failure, Info: info}, nil
	default:
		vs, err := strs(head[1], "vrefs")
		if err != nil {
			return vatproto.Syscall{}, err
		}
		refs := make([]vatproto.VRef, len(vs))
		for i, v := range vs {
			refs[i] = vatproto.VRef(v)
		}
		return vatproto.Syscall{Kind: vrefsKinds[kind], VRefs: refs}, nil
	}
}

// request is a JSON-RPC request from the kernel.
type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      string `json:"id"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

// encodeRequest makes the frame of a request, newline included.
func encodeRequest(id, method string, params any) ([]byte, error) {
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
	return nil, fmt.Errorf("jsvat: delivery kind %v has no wire form", d.Kind)
}

// deliveryResult is the reference's VatDeliveryResult: the vatstore's
// changes, and the delivery's error (nil when it succeeded).
type deliveryResult struct {
	sets    [][2]string
	deletes []string
	err     *string
}

// decodeResult reads [[sets, deletes], error|null]. A key may appear once
// across sets and deletes: a checkpoint names each change once.
func decodeResult(raw json.RawMessage) (deliveryResult, error) {
	t, err := decodeTuple(raw, 2)
	if err != nil {
		return deliveryResult{}, protoErr("delivery result: %v", err)
	}
	cp, err := decodeTuple(t[0], 2)
	if err != nil {
		return deliveryResult{}, protoErr("checkpoint: %v", err)
	}
	var res deliveryResult
	sets, err := list(cp[0], "checkpoint sets")
	if err != nil {
		return deliveryResult{}, protoErr("%v", err)
	}
	res.sets = make([][2]string, len(sets))
	for i, e := range sets {
		kv, err := strs(e, "checkpoint set")
		if err != nil || len(kv) != 2 {
			return deliveryResult{}, protoErr("checkpoint sets: entry %d: want [key, value] strings", i)
		}
		res.sets[i] = [2]string{kv[0], kv[1]}
	}
	if res.deletes, err = strs(cp[1], "checkpoint deletes"); err != nil {
		return deliveryResult{}, protoErr("%v", err)
	}
	seen := make(map[string]struct{}, len(res.sets)+len(res.deletes))
	for _, kv := range res.sets {
		if _, dup := seen[kv[0]]; dup {
			return deliveryResult{}, protoErr("checkpoint names key %q twice", kv[0])
		}
		seen[kv[0]] = struct{}{}
	}
	for _, k := range res.deletes {
		if _, dup := seen[k]; dup {
			return deliveryResult{}, protoErr("checkpoint names key %q twice", k)
		}
		seen[k] = struct{}{}
	}
	if string(t[1]) != "null" {
		s, err := str(t[1], "delivery error")
		if err != nil {
			return deliveryResult{}, protoErr("%v (or null)", err)
		}
		res.err = &s
	}
	return res, nil
}
