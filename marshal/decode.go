package marshal

import (
	"math"
	"math/big"
	"strings"
)

// decoder is one Decode call: a recursive-descent parser over the body
// that builds each value as it completes, in one pass. It lexes with the
// validator's scanner (validate.go), whose grammar is encoding/json's
// (FuzzValidate holds it to the decoder, and FuzzDecodeReference holds
// this decoder to the one it replaced, which parsed with
// encoding/json.Decoder.Token into a tree first). No error value is made
// unless the body is refused.
type decoder struct {
	c     *Codec
	sc    validator // the scanner: body, pos, maxDepth (its slot marks are unused)
	slots []string
	// vals holds, per slot, the value it decoded to (a slot decodes to
	// one value however often named); made at the first slot named.
	vals []slotValue
	// clone: strings are copied out of the body rather than sliced from
	// it, so that a large body is not kept alive by one short string a
	// vat holds on to. Small bodies share their memory: most strings of
	// a message are method names and short values.
	clone bool
}

// slotValue is what a slot decoded to, once it has been named.
type slotValue struct {
	v     any
	named bool
}

// member is an object member read but not yet interpreted: what the
// object is (record, tagged value, error) is known only at its '}'.
type member struct {
	key jstr
	val any
	// str: the value was a JSON string (a tag, an error's message and
	// name must be).
	str bool
}

// cloneAbove is the body length past which decoded strings are copied.
const cloneAbove = 1 << 10

// Decode unmarshals a smallcaps body, validating it as @endo/marshal does
// (and a little more strictly: slot indices must be in range, the nesting
// bounded, no object may repeat a key, and an error's extra properties
// must be valid too, though they are dropped). Validate accepts exactly
// the same bodies without building values. Numbers decode to int64 when
// they are integers within ±2^53 and to float64 otherwise; the rest of the
// mapping is Encode's. Every error wraps ErrMalformed (or is ValueOf's);
// none is a panic.
//
// Values are decoded in the order their text appears, and ValueOf is
// asked once per slot, at the slot's first mention (which carries its
// interface). A body that is refused may have had some of its slots
// handed to ValueOf before the fault was found.
func (c *Codec) Decode(data CapData) (any, error) {
	body, ok := cutPrefix(data.Body)
	if !ok {
		if data.Body == "" {
			return nil, malformed("empty body")
		}
		return nil, malformed("body does not start with %q (not smallcaps)", smallcapsPrefix)
	}
	if err := checkSlotsDistinct(data.Slots); err != nil {
		return nil, err
	}
	// The decoder lives on this stack: nothing keeps a pointer to it.
	d := decoder{c: c, slots: data.Slots, clone: len(body) > cloneAbove}
	d.sc.body, d.sc.maxDepth = body, c.maxDepth()
	d.sc.skipSpace()
	v, _, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.sc.skipSpace()
	if d.sc.pos != len(body) {
		return nil, malformed("body has data after its JSON value")
	}
	return v, nil
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

// value reads one JSON value at the scanner's position (no leading
// space), depth containers deep, and decodes it. str reports whether it
// was a JSON string.
func (d *decoder) value(depth int) (v any, str bool, err error) {
	sc := &d.sc
	if sc.pos >= len(sc.body) {
		return nil, false, sc.syntax("unexpected end of JSON input")
	}
	switch c := sc.body[sc.pos]; {
	case c == '"':
		s, err := sc.scanString()
		if err != nil {
			return nil, true, err
		}
		v, err := d.str(d.text(s))
		return v, true, err
	case c == '[':
		if depth >= sc.maxDepth {
			return nil, false, malformed("nesting deeper than %d", sc.maxDepth)
		}
		sc.pos++
		v, err := d.array(depth)
		return v, false, err
	case c == '{':
		if depth >= sc.maxDepth {
			return nil, false, malformed("nesting deeper than %d", sc.maxDepth)
		}
		sc.pos++
		v, err := d.object(depth)
		return v, false, err
	case c == '-' || c >= '0' && c <= '9':
		f, err := sc.scanNumber()
		if err != nil {
			return nil, false, err
		}
		if f == math.Trunc(f) && math.Abs(f) <= maxSafeInteger {
			return int64(f), false, nil
		}
		return f, false, nil
	case c == 't':
		return true, false, sc.literal("true")
	case c == 'f':
		return false, false, sc.literal("false")
	case c == 'n':
		return nil, false, sc.literal("null")
	}
	return nil, false, sc.syntax("invalid character %q looking for beginning of value", sc.body[sc.pos])
}

// text is a JSON string's unquoted text: a slice of the body when it has
// no escape and the body is small, else new memory.
func (d *decoder) text(s jstr) string {
	if !s.simple {
		return s.unquote()
	}
	if d.clone {
		return strings.Clone(s.raw)
	}
	return s.raw
}

// array reads the elements after '[' and the closing ']'. An empty array
// decodes to an empty slice, not nil.
func (d *decoder) array(depth int) ([]any, error) {
	sc := &d.sc
	// The elements gather on this stack while the array is short, then
	// move to one slice of the exact length.
	var buf [6]any
	elems := buf[:0]
	sc.skipSpace()
	if sc.peek() == ']' {
		sc.pos++
		return []any{}, nil
	}
	for {
		sc.skipSpace()
		v, _, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		elems = append(elems, v)
		sc.skipSpace()
		switch sc.peek() {
		case ',':
			sc.pos++
			continue
		case ']':
			sc.pos++
		default:
			return nil, sc.syntax("expected ',' or ']' after array element")
		}
		break
	}
	out := make([]any, len(elems))
	copy(out, elems)
	return out, nil
}

// object reads the members after '{' and the closing '}', each value
// decoded as it is read, then decides what the object was: a tagged
// value, an error or a record. The checks are those of the decoder this
// one replaced, member for member; only their order differs (a refused
// body may say another of its faults first).
func (d *decoder) object(depth int) (any, error) {
	sc := &d.sc
	var buf [4]member // the members gather here while they are few
	ms := buf[:0]
	sc.skipSpace()
	if sc.peek() == '}' {
		sc.pos++
		return map[string]any{}, nil
	}
	var large map[string]struct{} // past 16 keys, the keys seen, unquoted
	for {
		sc.skipSpace()
		if sc.peek() != '"' {
			return nil, sc.syntax("expected a string object key")
		}
		key, err := sc.scanString()
		if err != nil {
			return nil, err
		}
		sc.skipSpace()
		if sc.peek() != ':' {
			return nil, sc.syntax("expected ':' after object key")
		}
		sc.pos++
		sc.skipSpace()
		v, str, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		// JSON.parse keeps the last value of a repeated key and other
		// parsers the first; no encoder writes a key twice. Refusing it
		// keeps every value in the body one that is decoded, so that
		// every slot the body names is one the receiver sees (Validate's
		// rule).
		if n := len(ms); n < 16 {
			for _, prior := range ms {
				if prior.key.equal(key) {
					return nil, malformed("key %q is repeated", key.unquote())
				}
			}
		} else {
			if large == nil {
				large = make(map[string]struct{}, 2*n)
				for _, prior := range ms {
					large[prior.key.unquote()] = struct{}{}
				}
			}
			k := key.unquote()
			if _, dup := large[k]; dup {
				return nil, malformed("key %q is repeated", k)
			}
			large[k] = struct{}{}
		}
		ms = append(ms, member{key: key, val: v, str: str})
		sc.skipSpace()
		switch sc.peek() {
		case ',':
			sc.pos++
			continue
		case '}':
			sc.pos++
		default:
			return nil, sc.syntax("expected ',' or '}' after object member")
		}
		break
	}
	tag, payload, errMsg, name := -1, -1, -1, -1
	hasMessage := false
	for i, m := range ms {
		switch m.key.known() {
		case keyTag:
			tag = i
		case keyPayload:
			payload = i
		case keyError:
			errMsg = i
		case keyName:
			name = i
		case keyMessage:
			hasMessage = true
		}
	}
	switch {
	case tag >= 0:
		if len(ms) != 2 || payload < 0 {
			return nil, malformed("tagged value must have exactly #tag and payload")
		}
		if !ms[tag].str {
			return nil, malformed("tag must be a string")
		}
		tagStr, ok := ms[tag].val.(string)
		if !ok {
			return nil, malformed("tag must decode to a string")
		}
		return Tagged{Tag: tagStr, Payload: ms[payload].val}, nil
	case errMsg >= 0:
		return errorRecord(ms, errMsg, name, hasMessage)
	}
	out := make(map[string]any, len(ms))
	for _, m := range ms {
		k := d.text(m.key)
		if strings.HasPrefix(k, "#") {
			return nil, malformed("unrecognized record type %q", k)
		}
		pn, err := d.str(k)
		if err != nil {
			return nil, err
		}
		ns, ok := pn.(string)
		if !ok {
			return nil, malformed("property name %q does not decode to a string", k)
		}
		out[ns] = m.val
	}
	return out, nil
}

// errorRecord makes the error of an object with an "#error" member (at
// errMsg; name is the "name" member's index, or -1). Its other members
// were decoded as values already: validated, and now dropped (diagnostic
// extras from other encoders: errorId, cause, errors, ...), so that a body
// is never accepted for a part nobody looks at. Their keys are not
// decoded.
func errorRecord(ms []member, errMsg, name int, hasMessage bool) (any, error) {
	text := func(field string, m member) (string, error) {
		if !m.str {
			return "", malformed("error %s must be a string", field)
		}
		s, ok := m.val.(string)
		if !ok {
			return "", malformed("error %s must decode to a string", field)
		}
		return s, nil
	}
	message, err := text("message", ms[errMsg])
	if err != nil {
		return nil, err
	}
	if name < 0 {
		return nil, malformed("error without a name")
	}
	n, err := text("name", ms[name])
	if err != nil {
		return nil, err
	}
	if n == "" {
		n = "Error" // as JavaScript's decoder does, and as Encode writes it
	}
	if hasMessage {
		return nil, malformed("unexpected encoded error property %q", keyMessage)
	}
	return &Error{Name: n, Message: message}, nil
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
	if d.vals != nil && d.vals[idx].named {
		v := d.vals[idx].v
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
		d.vals = make([]slotValue, len(d.slots))
	}
	d.vals[idx] = slotValue{v: v, named: true}
	return v, nil
}
