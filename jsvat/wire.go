package jsvat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vatproto"
)

// What a worker sends, checked (docs/vat-protocol.md). The worker runs
// code the kernel does not trust, so every frame is hostile until it has
// exactly the shape the protocol gives it: each frame is decoded once, as
// plain JSON values, and then walked, with every field's JSON type
// checked (a null is never taken for "" or false) and no field unknown to
// the protocol accepted. Anything else is ErrProtocol. The meaning of what
// passes (is this vref in the c-list, may this vat resolve that promise)
// is the kernel's to judge, as for any vat's syscall.

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
	id     string // the request's id, as sent
	result any    // on success: the result, as JSON values
	err    *rpcError
}

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int
	Message string
}

// logEntry is the entry of a log notification.
type logEntry struct {
	Level   string
	Tags    []string
	Message string
}

// maxLogMessage bounds a log entry's message as the kernel writes it, in
// bytes: the worker cuts at 16 Ki UTF-16 units, which is up to 48 KiB.
const maxLogMessage = 64 << 10

// protoErr wraps ErrProtocol so that every rejection of a worker's frame is
// recognizable as the worker's fault (not the kernel's, nor a dead pipe's):
// the caller kills the worker on it and the kernel's failure policy applies.
func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// decodeInbound checks and decodes one frame.
//
// INVARIANT: no frame from the worker reaches the kernel except through
// here: every field is read from the result of this walk, never from the
// raw bytes, so a frame that passes has exactly the protocol's shape.
func decodeInbound(line []byte) inbound {
	// Go's decoder would quietly turn invalid UTF-8 into U+FFFD; a frame
	// that is not UTF-8 is the worker's fault, and named as such.
	// INVARIANT: a frame is valid UTF-8 before it is parsed, so what the
	// kernel stores and forwards is exactly what the worker sent, never a
	// silently repaired copy that differs from it.
	if !utf8.Valid(line) {
		return inbound{err: protoErr("a frame that is not valid UTF-8")}
	}
	// Decoded into plain values, not into structs: a struct decoder ignores
	// unknown fields and accepts null for a string, and both would let a
	// malformed frame pass as a well-formed one. parseJSON gives the values
	// json.Unmarshal into an `any` gives, for less (jsonparse.go).
	v, err := parseJSON(line)
	if err != nil {
		return inbound{err: protoErr("a frame that is not a JSON-RPC message: %v (%s)", err, abbrev(line))}
	}
	env, ok := v.(map[string]any)
	if !ok {
		return inbound{err: protoErr("a frame that is not a JSON-RPC message object (%s)", abbrev(line))}
	}
	// INVARIANT: no envelope field unknown to the protocol is accepted, so a
	// worker cannot carry data past the kernel in a field the kernel ignores
	// (and a typo in the worker is caught rather than silently dropped).
	for k := range env {
		switch k {
		case "jsonrpc", "id", "method", "params", "result", "error":
		default:
			return inbound{err: protoErr("a frame with unknown field %q (%s)", k, abbrev(line))}
		}
	}
	if env["jsonrpc"] != "2.0" {
		return inbound{err: protoErr(`a frame without "jsonrpc": "2.0" (%s)`, abbrev(line))}
	}
	id, hasID := env["id"]
	result, hasResult := env["result"]
	rpcErr, hasError := env["error"]
	params, hasParams := env["params"]
	// A frame with a method is a notification. The kernel never answers a
	// worker's request (the worker cannot call into the kernel except through
	// syscalls), so a method together with an id, result or error is refused
	// rather than guessed at.
	if m, hasMethod := env["method"]; hasMethod {
		method, ok := m.(string)
		switch {
		case !ok:
			return inbound{err: protoErr("a notification whose method is not a string (%s)", abbrev(line))}
		case hasID || hasResult || hasError:
			return inbound{err: protoErr("a request or malformed notification %q (%s): the kernel takes only notifications and responses", method, abbrev(line))}
		}
		// Only two notifications exist: a syscall, judged by the kernel, and a log
		// line, which is harmless. Anything else is refused, not ignored, so that
		// a worker speaking another protocol (or a compromised one probing) fails
		// at once.
		switch method {
		case "syscall":
			s, err := decodeSyscall(params)
			if err != nil {
				return inbound{err: protoErr("syscall: %v (%s)", err, abbrev(line))}
			}
			return inbound{syscall: &s}
		case "notify":
			e, err := decodeLog(params)
			if err != nil {
				return inbound{err: protoErr("notify: %v (%s)", err, abbrev(line))}
			}
			return inbound{log: e}
		}
		return inbound{err: protoErr("a notification of unknown method %q", method)}
	}
	// From here on the frame must be a response. A response with params is
	// neither one thing nor the other; taking it would let the same frame be
	// read two ways.
	if hasParams {
		return inbound{err: protoErr("a response with params (%s)", abbrev(line))}
	}
	sid, ok := id.(string)
	if !ok {
		if e, isErr := rpcErr.(map[string]any); isErr {
			// The worker could not tell which request it answers (it could
			// not read one): say what it said.
			msg, _ := e["message"].(string)
			return inbound{err: protoErr("an error for no request: %q", msg)}
		}
		return inbound{err: protoErr("a response whose id is not a string (%s)", abbrev(line))}
	}
	switch {
	// Exactly one of result and error: a response with both would let the
	// worker claim success and failure at once, and one with neither has no
	// meaning the kernel could act on.
	case hasResult == hasError:
		return inbound{err: protoErr("a response with not exactly one of result and error (%s)", abbrev(line))}
	case hasError:
		e, err := decodeRPCError(rpcErr)
		if err != nil {
			return inbound{err: protoErr("a response with a malformed error: %v", err)}
		}
		return inbound{resp: &response{id: sid, err: e}}
	}
	return inbound{resp: &response{id: sid, result: result}}
}

// decodeRPCError reads a JSON-RPC error object. The error's code must be a whole number: JSON numbers arrive as float64,
// and a fraction is not a JSON-RPC code.
func decodeRPCError(v any) (*rpcError, error) {
	m, err := object(v, "error", "code", "message", "data")
	if err != nil {
		return nil, err
	}
	code, ok := m["code"].(float64)
	if !ok || code != float64(int(code)) {
		return nil, errors.New("code: want a whole number")
	}
	msg, err := str(m["message"], "message")
	if err != nil {
		return nil, err
	}
	return &rpcError{Code: int(code), Message: msg}, nil
}

// abbrev shows the start of a frame in an error: enough to recognize it,
// never a whole frame of megabytes in the log.
func abbrev(b []byte) string {
	// The cut keeps errors and logs bounded: a hostile frame may be megabytes,
	// and the log is not the worker's to fill.
	const n = 120
	if len(b) <= n {
		return string(b)
	}
	s := b[:n]
	// Trim back to a rune boundary so the error itself is valid UTF-8.
	for len(s) > 0 && !utf8.Valid(s) {
		s = s[:len(s)-1]
	}
	return string(s) + "…(" + strconv.Itoa(len(b)) + " bytes)"
}

// The readers of JSON values. Each checks the JSON type: a value of
// another type, null included, is an error naming the field.

func str(v any, what string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: want a string", what)
	}
	return s, nil
}

func boolean(v any, what string) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s: want a boolean", what)
	}
	return b, nil
}

func list(v any, what string) ([]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a list", what)
	}
	return l, nil
}

// tuple reads a list of exactly n elements.
func tuple(v any, n int, what string) ([]any, error) {
	l, err := list(v, what)
	if err != nil {
		return nil, err
	}
	if len(l) != n {
		return nil, fmt.Errorf("%s: want %d elements, got %d", what, n, len(l))
	}
	return l, nil
}

func strs(v any, what string) ([]string, error) {
	l, err := list(v, what)
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

// object reads an object whose fields are among fields.
//
// INVARIANT: every nested object is closed to unknown fields, for the same
// reason as the envelope is. A missing field is left to its reader: most
// fail on the nil they find, and the few optional ones (a log entry's
// tags, a send's result) are tested for where they are read.
func object(v any, what string, fields ...string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want an object", what)
	}
	for k := range m {
		known := false
		for _, f := range fields {
			known = known || k == f
		}
		if !known {
			return nil, fmt.Errorf("%s: unknown field %q", what, k)
		}
	}
	return m, nil
}

func capdata(v any, what string) (marshal.CapData, error) {
	m, err := object(v, what, "body", "slots")
	if err != nil {
		return marshal.CapData{}, err
	}
	body, err := str(m["body"], what+".body")
	if err != nil {
		return marshal.CapData{}, err
	}
	slots, err := strs(m["slots"], what+".slots")
	if err != nil {
		return marshal.CapData{}, err
	}
	// An empty list and an absent one mean the same to the kernel; making both
	// nil keeps a vat from producing two encodings of one message, which would
	// differ in the kernel's transcript.
	if len(slots) == 0 {
		slots = nil // the kernel's form of none
	}
	return marshal.CapData{Body: body, Slots: slots}, nil
}

func decodeLog(params any) (*logEntry, error) {
	p, err := tuple(params, 2, "params")
	// A log entry is a string holding JSON (as the reference sends it), and is
	// checked as strictly as a frame, though it only reaches the log: the log
	// is read by operators, and a malformed entry is a broken worker.
	if err != nil || p[0] != "logger" {
		return nil, errors.New(`want ["logger", entry]`)
	}
	text, err := str(p[1], "entry")
	if err != nil {
		return nil, err
	}
	var ev any
	if err := json.Unmarshal([]byte(text), &ev); err != nil {
		return nil, fmt.Errorf("entry: not JSON: %v", err)
	}
	m, err := object(ev, "entry", "level", "tags", "message", "data")
	if err != nil {
		return nil, err
	}
	var e logEntry
	if e.Level, err = str(m["level"], "entry.level"); err != nil {
		return nil, err
	}
	switch e.Level {
	// A fixed set of levels, those the worker's console sends: any other is
	// a broken or probing worker, and never reaches zerolog as a level name
	// (logEntry maps these five, and only these, onto the vat's log).
	case "debug", "info", "log", "warn", "error":
	default:
		return nil, fmt.Errorf("entry: unknown level %q", e.Level)
	}
	if e.Message, err = str(m["message"], "entry.message"); err != nil {
		return nil, err
	}
	if t, ok := m["tags"]; ok {
		if e.Tags, err = strs(t, "entry.tags"); err != nil {
			return nil, err
		}
	}
	// Bounded even though the frame limit already bounds it: the frame may be
	// as large as Options.MaxFrame, and one log line of megabytes would flood
	// the log. The cut is at a byte count; a split rune is harmless in a log.
	if len(e.Message) > maxLogMessage {
		e.Message = e.Message[:maxLogMessage] + "…(cut)"
	}
	return &e, nil
}

func resolutions(v any) ([]vatproto.VatResolution, error) {
	items, err := list(v, "resolutions")
	if err != nil {
		return nil, err
	}
	out := make([]vatproto.VatResolution, 0, len(items))
	for i, it := range items {
		// Each resolution is [vpid, rejected, data], checked field by field: the
		// kernel decides whether this vat may resolve vpid, but only after the
		// shape is known to be right.
		t, err := tuple(it, 3, "resolution")
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
// Only the syscalls in this table cross the wire. Each has a fixed tuple
// length, checked before any element is read, so a missing or extra
// element is a protocol error rather than an index panic or a silently
// dropped argument.
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
func decodeSyscall(params any) (vatproto.Syscall, error) {
	head, err := list(params, "params")
	if err != nil || len(head) == 0 {
		return vatproto.Syscall{}, errors.New("want [kind, ...]")
	}
	kind, err := str(head[0], "kind")
	if err != nil {
		return vatproto.Syscall{}, err
	}
	// The vatstore syscalls are refused by name, with a reason: the worker
	// keeps its own copy of the vatstore, and the kernel's copy changes only
	// through a delivery's checkpoint (see finish), so a vatstore write can
	// never escape the crank that made it.
	n, ok := syscallArity[kind]
	if !ok {
		switch kind {
		case "vatstoreGet", "vatstoreSet", "vatstoreGetNextKey", "vatstoreDelete":
			return vatproto.Syscall{}, fmt.Errorf("%s does not cross the wire: the worker keeps the vatstore and returns its changes with each delivery's result", kind)
		}
		return vatproto.Syscall{}, fmt.Errorf("unknown syscall %q", kind)
	}
	// INVARIANT: the tuple has exactly the arity of its kind before any
	// element is read.
	if len(head) != n {
		return vatproto.Syscall{}, fmt.Errorf("%s: want %d elements, got %d", kind, n, len(head))
	}
	switch kind {
	case "send":
		target, err := str(head[1], "target")
		if err != nil {
			return vatproto.Syscall{}, err
		}
		msg, err := object(head[2], "message", "methargs", "result")
		if err != nil {
			return vatproto.Syscall{}, err
		}
		m := vatproto.VatMessage{}
		if m.Methargs, err = capdata(msg["methargs"], "methargs"); err != nil {
			return vatproto.Syscall{}, err
		}
		// A result that is absent or null: a sendOnly.
		if r, ok := msg["result"]; ok && r != nil {
			vpid, err := str(r, "result")
			if err != nil {
				return vatproto.Syscall{}, err
			}
			// An empty result vpid is refused rather than taken for "no result": the
			// kernel would otherwise see a send with a result it cannot name, and a
			// vat could not tell which of the two forms it had produced.
			if vpid == "" {
				return vatproto.Syscall{}, errors.New(`result: "" is not a vpid (leave it out for none)`)
			}
			m.Result = vatproto.VRef(vpid)
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
	}
	// What is left are the four vref-list syscalls (dropImports and the
	// like); syscallArity has no other kinds, so vrefsKinds has the kind.
	// Whether each vref is this vat's to drop is for the kernel to judge.
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

// deliveryResult is the reference's VatDeliveryResult: the vatstore's
// changes, and the delivery's error (nil when it succeeded).
type deliveryResult struct {
	sets    [][2]string
	deletes []string
	err     *string
}

// decodeResult reads [[sets, deletes], error|null]. A key may appear once
// across sets and deletes: a checkpoint names each change once.
//
// INVARIANT: a key named twice in one checkpoint is refused: applied in
// order, a set and a delete of the same key (or two sets) would give a
// result that depends on the order of application, and the kernel's
// vatstore must not depend on such accidents of the worker's encoding.
// Every error here is ErrProtocol: a malformed result is the worker's
// fault, and the delivery fails with the worker killed.
func decodeResult(v any) (deliveryResult, error) {
	t, err := tuple(v, 2, "delivery result")
	if err != nil {
		return deliveryResult{}, protoErr("%v", err)
	}
	cp, err := tuple(t[0], 2, "checkpoint")
	if err != nil {
		return deliveryResult{}, protoErr("%v", err)
	}
	sets, err := list(cp[0], "checkpoint sets")
	if err != nil {
		return deliveryResult{}, protoErr("%v", err)
	}
	var res deliveryResult
	res.sets = make([][2]string, len(sets))
	for i, e := range sets {
		// Each set is exactly [key, value], both strings: the vatstore holds
		// strings only, and a pair of another length has no one meaning.
		kv, err := strs(e, "checkpoint set")
		if err != nil || len(kv) != 2 {
			return deliveryResult{}, protoErr("checkpoint sets: entry %d: want [key, value] strings", i)
		}
		res.sets[i] = [2]string{kv[0], kv[1]}
	}
	if res.deletes, err = strs(cp[1], "checkpoint deletes"); err != nil {
		return deliveryResult{}, protoErr("%v", err)
	}
	// The duplicate check runs over sets and deletes together, before anything
	// is applied, so a rejected checkpoint changes nothing.
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
	// The delivery's error is null or a string; anything else (an object, a
	// number) is a malformed result, not an error message to pass on.
	if t[1] != nil {
		s, err := str(t[1], "delivery error")
		if err != nil {
			return deliveryResult{}, protoErr("%v (or null)", err)
		}
		res.err = &s
	}
	return res, nil
}
