package marshal

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// refDecoder is one Decode call.
type refDecoder struct {
	c     *Codec
	slots []string
	vals  map[int]any // a slot decodes to one value however often named
}

// refDecode is the decoder Decode replaced, kept as the reference that
// FuzzDecodeReference holds the new one to: it parses the body with
// encoding/json's Decoder.Token into a tree, then decodes the tree. What
// follows is its original comment.
//
// Decode unmarshals a smallcaps body, validating it as @endo/marshal does
// (and a little more strictly: slot indices must be in range, the nesting
// bounded, no object may repeat a key, and an error's extra properties
// must be valid too, though they are dropped). Validate accepts exactly
// the same bodies without building values. Numbers decode to int64 when they are integers within
// ±2^53 and to float64 otherwise; the rest of the mapping is Encode's.
// Every error wraps ErrMalformed; none is a panic.
func refDecode(c *Codec, data CapData) (any, error) {
	body, ok := strings.CutPrefix(data.Body, smallcapsPrefix)
	if !ok {
		if data.Body == "" {
			return nil, malformed("empty body")
		}
		return nil, malformed("body does not start with %q (not smallcaps)", smallcapsPrefix)
	}
	tree, err := refParseJSON(body, c.maxDepth())
	if err != nil {
		return nil, err
	}
	if err := checkSlotsDistinct(data.Slots); err != nil {
		return nil, err
	}
	d := &refDecoder{c: c, slots: data.Slots}
	return d.value(tree)
}

// refJSONObject is a parsed JSON object with its keys in document order: the
// order matters, because the first mention of a slot carries its interface
// and entries are decoded in order, as JavaScript does.
type refJSONObject struct {
	keys []string
	vals map[string]any
}

// refParseJSON parses body into nil, bool, json.Number, string, []any and
// *refJSONObject, refusing nesting deeper than maxDepth as it goes.
func refParseJSON(body string, maxDepth int) (any, error) {
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
			obj := &refJSONObject{vals: map[string]any{}}
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

func (d *refDecoder) value(t any) (any, error) {
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
	case *refJSONObject:
		return d.object(x)
	}
	return nil, malformed("unexpected JSON value %T", t)
}

// str decodes a JSON string, which may be a smallcaps encoding.
func (d *refDecoder) str(s string) (any, error) {
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
func (d *refDecoder) slot(s string) (any, error) {
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
func (d *refDecoder) object(obj *refJSONObject) (any, error) {
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

func (d *refDecoder) errorRecord(msg any, obj *refJSONObject) (any, error) {
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
		name = "Error" // as JavaScript's refDecoder does, and as Encode writes it
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

// presence stands for a reference in decodeBoth's second codec, as a vat's
// presences and promises do: a pointer the decoder hands back unchanged,
// which makes it skip the promise/remotable check it makes on Refs.
type presence struct{ r Ref }

// decodeBoth decodes c with Decode and with refDecode, each under two
// codecs (the zero Codec, and one whose ValueOf returns pointers), and
// fails t if they disagree: on whether c is accepted, on the value, or on
// the references ValueOf was asked for, in order.
func decodeBoth(t testing.TB, c CapData) {
	t.Helper()
	for _, pointers := range []bool{false, true} {
		var newAsked, refAsked []Ref
		codec := func(asked *[]Ref) *Codec {
			return &Codec{ValueOf: func(r Ref) (any, error) {
				*asked = append(*asked, r)
				if pointers {
					return &presence{r}, nil
				}
				return r, nil
			}}
		}
		got, err := codec(&newAsked).Decode(c)
		want, refErr := refDecode(codec(&refAsked), c)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("body %q slots %q: Decode says %v, the reference says %v", c.Body, c.Slots, err, refErr)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("body %q: error %v does not wrap ErrMalformed", c.Body, err)
			}
			continue
		}
		if !equalPresences(got, want) {
			t.Fatalf("body %q slots %q: Decode gives %#v, the reference %#v", c.Body, c.Slots, got, want)
		}
		if !slices.Equal(newAsked, refAsked) {
			t.Fatalf("body %q slots %q: Decode asked ValueOf for %v, the reference for %v", c.Body, c.Slots, newAsked, refAsked)
		}
	}
}

// equalPresences is equalValues, with presences compared by what they
// stand for, and empty slices and maps told from nil ones.
func equalPresences(a, b any) bool {
	switch x := a.(type) {
	case *presence:
		y, ok := b.(*presence)
		return ok && x.r == y.r
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for i := range x {
			if !equalPresences(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) || (x == nil) != (y == nil) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalPresences(v, w) {
				return false
			}
		}
		return true
	case Tagged:
		y, ok := b.(Tagged)
		return ok && x.Tag == y.Tag && equalPresences(x.Payload, y.Payload)
	}
	return equalValues(a, b)
}

// FuzzDecodeReference holds Decode to the decoder it replaced: for any
// body and slots, both accept or both refuse, and what they accept they
// decode to the same value, asking ValueOf for the same references in the
// same order. Seeds: every vector, the validator's tricky cases, the
// corpus of FuzzDecode, and the cases of TestDecodeMatchesReference.
func FuzzDecodeReference(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Body, strings.Join(v.Slots, ","))
	}
	for _, tt := range tricky {
		f.Add(tt.body, strings.Join(tt.slots, ","))
	}
	for _, tt := range referenceCases {
		f.Add(tt.body, strings.Join(tt.slots, ","))
	}
	f.Fuzz(func(t *testing.T, body, slots string) {
		var ss []string
		if slots != "" {
			ss = strings.Split(slots, ",")
		}
		c := CapData{Body: body, Slots: ss}
		decodeBoth(t, c)
		lookBoth(t, c)
	})
}

// referenceCases are bodies where a one-pass decoder could part from the
// tree decoder: what an object is decided only at its end, the first
// mention of a slot carrying its interface, errors' undecoded extra keys,
// empty containers, numbers at the edges, escapes in keys, depth.
var referenceCases = []struct {
	body  string
	slots []string
}{
	{`#[{"#error":"m","name":"Error","$0.X":1},"$0.Y"]`, []string{"o+1"}},
	{`#[{"#error":"m","name":"Error","e":"$0.X"},"$0.Y"]`, []string{"o+1"}},
	{`#{"payload":"$0.P","#tag":"t"}`, []string{"o+1"}},
	{`#{"payload":["$0.P","$0.Q"],"#tag":"!#t"}`, []string{"o+1"}},
	{`#{"a":"$0.A","#tag":"t","payload":1}`, []string{"o+1"}},
	{`#{"a":"$0.A","#foo":1}`, []string{"o+1"}},
	{`#{"$0.K":1}`, []string{"o+1"}},
	{`#{"#error":"m","name":"","#x":"$0"}`, []string{"o+1"}},
	{`#{"#error":"m","name":"E","message":"x"}`, nil},
	{`#{"#error":"m"}`, nil},
	{`#{"#error":1,"name":"E"}`, nil},
	{`#{"#error":"%s","name":"E"}`, nil},
	{`#{"#tag":5,"payload":1}`, nil},
	{`#{"#tag":"#undefined","payload":1}`, nil},
	{`#{"a":1,"\u0061":2}`, nil},
	{`#{"!!a":1,"!a":2}`, nil},
	{`#{"\u0023tag":"t","payload":[]}`, nil},
	{`#[[],{},[[]],{"a":{}}]`, nil},
	{`#["$0","&0"]`, []string{"o+1"}},
	{`#["&0","$0.X"]`, []string{"p+1"}},
	{`#[9007199254740991,9007199254740992,-9007199254740991,-0,1e400,1.5,1E2,0.0]`, nil},
	{`#[-0.0e-0, 1e-400]`, nil},
	{` #[1]`, nil},
	{`#[1] `, nil},
	{`#[1] 2`, nil},
	{`#[1,]`, nil},
	{`#{"a":1,}`, nil},
	{`#"\ud800"`, nil},
	{`#"\ud83d\ude00 \xff"`, nil},
	{"#\"\xff\"", nil},
	{`#{"k17":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k1\u0037":17}`, nil},
	{`#{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":"$0.A"}`, []string{"o+1"}},
	{`#` + strings.Repeat("[", 64) + strings.Repeat("]", 64), nil},
	{`#` + strings.Repeat("[", 65) + strings.Repeat("]", 65), nil},
	{`#` + strings.Repeat(`{"a":`, 64) + "1" + strings.Repeat("}", 64), nil},
	{`#["$1","$0"]`, []string{"o+1", "o+1"}},
	{`#["$0"]`, []string{""}},
	{`#"$01"`, []string{"o+1"}},
	{`#"+0012"`, nil},
	{`#"+"`, nil},
	{`#"!a"`, nil},
	{`#"!!a"`, nil},
	{`#".x"`, nil},
	{`#[true,false,null,tru]`, nil},
	{`#"$0.A" `, []string{"o+1"}},
	{`#"$0.A"x`, []string{"o+1"}},
	{`#"\u00260"`, []string{"p+1"}},
	{`#"&0.x"`, []string{"p+1"}},
	{` #  [ "m" ,[]]`, nil},
	{`#["!%m",[]]`, nil},
	{`#["%m",[]]`, nil},
	{`#["m"`, nil},
	{`#["m\`, nil},
	{`#[1,"m"]`, nil},
}

// lookBoth fails t if SingleRef or MethodName disagree with their
// references on c.
func lookBoth(t testing.TB, c CapData) {
	t.Helper()
	slot, promise, ok := SingleRef(c)
	rslot, rpromise, rok := refSingleRef(c)
	if slot != rslot || promise != rpromise || ok != rok {
		t.Fatalf("body %q slots %q: SingleRef gives %q %v %v, the reference %q %v %v", c.Body, c.Slots, slot, promise, ok, rslot, rpromise, rok)
	}
	m, ok := MethodName(c)
	rm, rok := refMethodName(c)
	if m != rm || ok != rok {
		t.Fatalf("body %q: MethodName gives %q %v, the reference %q %v", c.Body, m, ok, rm, rok)
	}
}

// TestDecodeMatchesReference runs the differential check on the fixed
// cases, so that it runs without -fuzz too.
func TestDecodeMatchesReference(t *testing.T) {
	for _, tt := range referenceCases {
		decodeBoth(t, CapData{Body: tt.body, Slots: tt.slots})
		lookBoth(t, CapData{Body: tt.body, Slots: tt.slots})
	}
	for _, tt := range tricky {
		decodeBoth(t, CapData{Body: tt.body, Slots: tt.slots})
		lookBoth(t, CapData{Body: tt.body, Slots: tt.slots})
	}
	for _, v := range loadVectors(t) {
		decodeBoth(t, CapData{Body: v.Body, Slots: v.Slots})
		lookBoth(t, CapData{Body: v.Body, Slots: v.Slots})
	}
}

// refSingleRef and refMethodName are SingleRef and MethodName as they were,
// with encoding/json, kept as references for FuzzDecodeReference.
func refSingleRef(c CapData) (slot string, promise bool, ok bool) {
	body, found := strings.CutPrefix(c.Body, smallcapsPrefix)
	if !found || len(body) < 4 || body[0] != '"' {
		return "", false, false
	}
	var s string
	if err := json.Unmarshal([]byte(body), &s); err != nil || len(s) < 2 {
		return "", false, false
	}
	switch s[0] {
	case '$':
	case '&':
		promise = true
	default:
		return "", false, false
	}
	digits := s[1:]
	if i := strings.IndexByte(digits, '.'); i >= 0 {
		if promise {
			return "", false, false
		}
		digits = digits[:i]
	}
	idx, ok := slotIndex(digits)
	if !ok || idx >= len(c.Slots) || c.Slots[idx] == "" {
		return "", false, false
	}
	return c.Slots[idx], promise, true
}

func refMethodName(c CapData) (string, bool) {
	body, found := strings.CutPrefix(c.Body, smallcapsPrefix)
	if !found {
		return "", false
	}
	dec := json.NewDecoder(strings.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return "", false
	}
	t, err := dec.Token()
	if err != nil {
		return "", false
	}
	s, ok := t.(string)
	if !ok {
		return "", false
	}
	if startsSpecial(s) {
		if s[0] != '!' {
			return "", false
		}
		s = s[1:]
	}
	return s, true
}
