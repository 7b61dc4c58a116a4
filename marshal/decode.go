package marshal

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// decoder is one Decode call.
type decoder struct {
	c     *Codec
	slots []string
	vals  map[int]any // a slot decodes to one value however often named
}

// Decode unmarshals a smallcaps body, validating it as @endo/marshal does
// (and a little more strictly: slot indices must be in range, the nesting
// bounded, no object may repeat a key, and an error's extra properties
// must be valid too, though they are dropped). Validate accepts exactly
// the same bodies without building values. Numbers decode to int64 when they are integers within
// ±2^53 and to float64 otherwise; the rest of the mapping is Encode's.
// Every error wraps ErrMalformed; none is a panic.
func (c *Codec) Decode(data CapData) (any, error) {
	body, ok := strings.CutPrefix(data.Body, smallcapsPrefix)
	if !ok {
		if data.Body == "" {
			return nil, malformed("empty body")
		}
		return nil, malformed("body does not start with %q (not smallcaps)", smallcapsPrefix)
	}
	tree, err := parseJSON(body, c.maxDepth())
	if err != nil {
		return nil, err
	}
	if err := checkSlotsDistinct(data.Slots); err != nil {
		return nil, err
	}
	d := &decoder{c: c, slots: data.Slots}
	return d.value(tree)
}

// checkSlotsDistinct refuses a slot named twice: an encoder gives each
// reference one slot, so two indexes with the same slot would decode to
// two values for one reference (with different interfaces, even).
func checkSlotsDistinct(slots []string) error {
	if len(slots) <= 16 { // no allocation for the common few
		for i := 1; i < len(slots); i++ {
			for j := 0; j < i; j++ {
				if slots[i] == slots[j] {
					return malformed("slots %d and %d are both %q", j, i, slots[i])
				}
			}
		}
		return nil
	}
	seen := make(map[string]int, len(slots))
	for i, s := range slots {
		if j, dup := seen[s]; dup {
			return malformed("slots %d and %d are both %q", j, i, s)
		}
		seen[s] = i
	}
	return nil
}

// jsonObject is a parsed JSON object with its keys in document order: the
// order matters, because the first mention of a slot carries its interface
// and entries are decoded in order, as JavaScript does.
type jsonObject struct {
	keys []string
	vals map[string]any
}

// parseJSON parses body into nil, bool, json.Number, string, []any and
// *jsonObject, refusing nesting deeper than maxDepth as it goes.
func parseJSON(body string, maxDepth int) (any, error) {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var parse func(depth int) (any, error)
	parse = func(depth int) (any, error) {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed("body is not JSON: %v", err)
		}
		delim, ok := tok.(json.Delim)
		if !ok {
			return tok, nil
		}
		if depth >= maxDepth {
			return nil, malformed("nesting deeper than %d", maxDepth)
		}
		switch delim {
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := parse(depth + 1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, malformed("body is not JSON: %v", err)
			}
			return arr, nil
		case '{':
			obj := &jsonObject{vals: map[string]any{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, malformed("body is not JSON: %v", err)
				}
				k, ok := kt.(string)
				if !ok {
					return nil, malformed("body is not JSON: object key %v", kt)
				}
				v, err := parse(depth + 1)
				if err != nil {
					return nil, err
				}
				if _, dup := obj.vals[k]; dup {
					// JSON.parse keeps the last value and other parsers the
					// first; no encoder writes a key twice. Refusing it
					// keeps every value in the body one that is decoded,
					// so that every slot the body names is one the
					// receiver sees (Validate's rule).
					return nil, malformed("key %q is repeated", k)
				}
				obj.keys = append(obj.keys, k)
				obj.vals[k] = v
			}
			if _, err := dec.Token(); err != nil {
				return nil, malformed("body is not JSON: %v", err)
			}
			return obj, nil
		}
		return nil, malformed("body is not JSON: unexpected %v", delim)
	}
	tree, err := parse(0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed("body has data after its JSON value")
	}
	return tree, nil
}

func (d *decoder) value(t any) (any, error) {
	switch x := t.(type) {
	case nil, bool:
		return x, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || !isFinite(f) {
			return nil, malformed("number %s is out of range", x)
		}
		if f == math.Trunc(f) && math.Abs(f) <= maxSafeInteger {
			return int64(f), nil
		}
		return f, nil
	case string:
		return d.str(x)
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			v, err := d.value(el)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case *jsonObject:
		return d.object(x)
	}
	return nil, malformed("unexpected JSON value %T", t)
}

// str decodes a JSON string, which may be a smallcaps encoding.
func (d *decoder) str(s string) (any, error) {
	if !startsSpecial(s) {
		return s, nil
	}
	switch s[0] {
	case '!':
		// Only strings that start with a special character are escaped;
		// accepting "!a" for "a" would let two keys of a record decode to
		// the same name, and which one won would depend on map order.
		if !startsSpecial(s[1:]) {
			return nil, malformed("needless escape in %q", s)
		}
		return s[1:], nil
	case '#':
		switch s {
		case "#undefined":
			return Undefined, nil
		case "#NaN":
			return math.NaN(), nil
		case "#Infinity":
			return math.Inf(1), nil
		case "#-Infinity":
			return math.Inf(-1), nil
		}
		return nil, malformed("unknown constant %q", s)
	case '+', '-':
		digits := s[1:]
		if digits == "" || strings.Trim(digits, "0123456789") != "" {
			return nil, malformed("bigint %q is not a decimal integer", s)
		}
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, malformed("bigint %q", s)
		}
		return n, nil
	case '%':
		return Symbol(s[1:]), nil
	case '$', '&':
		return d.slot(s)
	}
	return nil, malformed("special character %q is reserved: %q", s[0], s)
}

// slot decodes "$N", "$N.iface" or "&N".
func (d *decoder) slot(s string) (any, error) {
	promise := s[0] == '&'
	digits, iface, hasIface := strings.Cut(s[1:], ".")
	if promise && hasIface {
		return nil, malformed("promise %q has an interface", s)
	}
	idx, ok := slotIndex(digits)
	if !ok {
		return nil, malformed("bad slot index in %q", s)
	}
	if idx >= len(d.slots) {
		return nil, malformed("slot index %d out of range (%d slots)", idx, len(d.slots))
	}
	if d.slots[idx] == "" {
		return nil, malformed("slot %d is empty", idx)
	}
	if v, ok := d.vals[idx]; ok {
		if r, isRef := v.(Ref); isRef && r.Promise != promise {
			return nil, malformed("slot %d named both as a promise and as a remotable", idx)
		}
		return v, nil
	}
	r := Ref{Slot: d.slots[idx], Iface: iface, Promise: promise}
	var v any = r
	if d.c.ValueOf != nil {
		var err error
		if v, err = d.c.ValueOf(r); err != nil {
			return nil, err
		}
	}
	if d.vals == nil {
		d.vals = map[int]any{}
	}
	d.vals[idx] = v
	return v, nil
}

// object decodes a record, a tagged value or an error.
func (d *decoder) object(obj *jsonObject) (any, error) {
	m := obj.vals
	if tag, ok := m["#tag"]; ok {
		payload, hasPayload := m["payload"]
		if len(m) != 2 || !hasPayload {
			return nil, malformed("tagged value must have exactly #tag and payload")
		}
		ts, ok := tag.(string)
		if !ok {
			return nil, malformed("tag must be a string")
		}
		tv, err := d.str(ts)
		if err != nil {
			return nil, err
		}
		tagStr, ok := tv.(string)
		if !ok {
			return nil, malformed("tag must decode to a string")
		}
		p, err := d.value(payload)
		if err != nil {
			return nil, err
		}
		return Tagged{Tag: tagStr, Payload: p}, nil
	}
	if msg, ok := m["#error"]; ok {
		return d.errorRecord(msg, obj)
	}
	out := make(map[string]any, len(m))
	for _, k := range obj.keys {
		v := m[k]
		if strings.HasPrefix(k, "#") {
			return nil, malformed("unrecognized record type %q", k)
		}
		name, err := d.str(k)
		if err != nil {
			return nil, err
		}
		ns, ok := name.(string)
		if !ok {
			return nil, malformed("property name %q does not decode to a string", k)
		}
		dv, err := d.value(v)
		if err != nil {
			return nil, err
		}
		out[ns] = dv
	}
	return out, nil
}

func (d *decoder) errorRecord(msg any, obj *jsonObject) (any, error) {
	m := obj.vals
	text := func(field string, raw any) (string, error) {
		s, ok := raw.(string)
		if !ok {
			return "", malformed("error %s must be a string", field)
		}
		v, err := d.str(s)
		if err != nil {
			return "", err
		}
		str, ok := v.(string)
		if !ok {
			return "", malformed("error %s must decode to a string", field)
		}
		return str, nil
	}
	message, err := text("message", msg)
	if err != nil {
		return nil, err
	}
	rawName, ok := m["name"]
	if !ok {
		return nil, malformed("error without a name")
	}
	name, err := text("name", rawName)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "Error" // as JavaScript's decoder does, and as Encode writes it
	}
	for _, k := range obj.keys {
		v := m[k]
		switch k {
		case "#error", "name":
		case "message":
			return nil, malformed("unexpected encoded error property %q", k)
		default:
			// Diagnostic extras from other encoders (errorId, cause,
			// errors, ...): validated, then dropped. Validated, so that
			// a body is never accepted for a part nobody looks at.
			if _, err := d.value(v); err != nil {
				return nil, err
			}
		}
	}
	return &Error{Name: name, Message: message}, nil
}
