package marshal

import (
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Validate checks c without building a single Go value: it accepts exactly
// what Decode accepts (the same JSON, the same smallcaps encodings, "!"
// escapes, nesting bound, slot indices and kinds), and it also refuses a
// slot that the body never names. Such a slot would make the kernel count
// a reference that no receiver can see or drop, and so pin its object
// forever.
//
// The kernel calls it on every CapData a vat hands it, on the syscall's
// hot path: it makes one pass over the body and allocates nothing unless it
// fails, has more than 16 slots, or meets a record of more than 16 keys.
// Every error wraps ErrMalformed.
func Validate(c CapData) error {
	v := validator{maxDepth: DefaultMaxDepth}
	return v.run(c, false)
}

// ValidateMessage is Validate for a message's methargs, which must in
// addition be an array [method, args] whose method is a string or a symbol
// and whose args are an array.
func ValidateMessage(c CapData) error {
	v := validator{maxDepth: DefaultMaxDepth}
	return v.run(c, true)
}

// validator is one Validate call. It walks the JSON text once: a
// recursive-descent parser that checks the grammar encoding/json accepts
// and, as each value completes, what Decode would make of it. Strings are
// never unquoted into new memory; jstr reads their runes in place.
type validator struct {
	body     string // the JSON text after the smallcaps prefix
	pos      int
	slots    []string
	maxDepth int
	// named records, per slot, how the body names it: bit 0 as a
	// remotable, bit 1 as a promise. Up to 64 slots live in the two
	// words; beyond, in many.
	asRemotable, asPromise uint64
	many                   []uint8
}

// Bits of validator.many.
const (
	namedRemotable = 1 << iota
	namedPromise
)

func (v *validator) run(c CapData, message bool) error {
	body, ok := cutPrefix(c.Body)
	if !ok {
		if c.Body == "" {
			return malformed("empty body")
		}
		return malformed("body does not start with %q (not smallcaps)", smallcapsPrefix)
	}
	if err := checkSlotsDistinct(c.Slots); err != nil {
		return err
	}
	v.body, v.slots = body, c.Slots
	if len(c.Slots) > 64 {
		v.many = make([]uint8, len(c.Slots))
	}
	v.skipSpace()
	var err error
	if message {
		err = v.message()
	} else {
		_, err = v.value(0)
	}
	if err != nil {
		return err
	}
	v.skipSpace()
	if v.pos != len(v.body) {
		return malformed("body has data after its JSON value")
	}
	for i := range v.slots {
		if !v.named(i) {
			return malformed("slot %d (%q) is not named by the body", i, v.slots[i])
		}
	}
	return nil
}

func cutPrefix(body string) (string, bool) {
	if len(body) < len(smallcapsPrefix) || body[:len(smallcapsPrefix)] != smallcapsPrefix {
		return "", false
	}
	return body[len(smallcapsPrefix):], true
}

// kind is the JSON kind of a value the validator has read.
type kind uint8

const (
	kindLiteral kind = iota // null, true, false, a number
	kindString
	kindArray
	kindObject
)

// strClass says what a JSON string decodes to.
type strClass uint8

const (
	classString strClass = iota // a string (plain, or "!"-escaped)
	classSymbol                 // "%name"
	classOther                  // undefined, NaN, ±Infinity, a bigint, a slot
)

// read is what value returns about the value it read: enough for the
// caller (an object deciding what it is, a message checking its shape).
type read struct {
	kind  kind
	class strClass // kindString only
}

// value reads and checks one JSON value at v.pos (no leading space),
// depth containers deep. It mirrors decoder.value.
func (v *validator) value(depth int) (read, error) {
	if v.pos >= len(v.body) {
		return read{}, v.syntax("unexpected end of JSON input")
	}
	switch c := v.body[v.pos]; {
	case c == '"':
		s, err := v.scanString()
		if err != nil {
			return read{}, err
		}
		class, err := v.stringValue(s)
		return read{kind: kindString, class: class}, err
	case c == '[':
		if depth >= v.maxDepth {
			return read{}, malformed("nesting deeper than %d", v.maxDepth)
		}
		v.pos++
		return read{kind: kindArray}, v.array(depth)
	case c == '{':
		if depth >= v.maxDepth {
			return read{}, malformed("nesting deeper than %d", v.maxDepth)
		}
		v.pos++
		return read{kind: kindObject}, v.object(depth)
	case c == '-' || c >= '0' && c <= '9':
		return read{}, v.number()
	case c == 't':
		return read{}, v.literal("true")
	case c == 'f':
		return read{}, v.literal("false")
	case c == 'n':
		return read{}, v.literal("null")
	}
	return read{}, v.syntax("invalid character %q looking for beginning of value", v.body[v.pos])
}

// array reads the elements after '[' and the closing ']'.
func (v *validator) array(depth int) error {
	v.skipSpace()
	if v.peek() == ']' {
		v.pos++
		return nil
	}
	for {
		v.skipSpace()
		if _, err := v.value(depth + 1); err != nil {
			return err
		}
		v.skipSpace()
		switch v.peek() {
		case ',':
			v.pos++
		case ']':
			v.pos++
			return nil
		default:
			return v.syntax("expected ',' or ']' after array element")
		}
	}
}

// message reads the top-level [method, args] of a message.
func (v *validator) message() error {
	if v.peek() != '[' {
		return malformed("message is not an array [method, args]")
	}
	v.pos++
	var parts [2]read
	n := 0
	v.skipSpace()
	if v.peek() != ']' {
		for {
			v.skipSpace()
			r, err := v.value(1)
			if err != nil {
				return err
			}
			if n < len(parts) {
				parts[n] = r
			}
			n++
			v.skipSpace()
			if v.peek() == ',' {
				v.pos++
				continue
			}
			if v.peek() != ']' {
				return v.syntax("expected ',' or ']' after array element")
			}
			break
		}
	}
	v.pos++
	switch {
	case n != 2:
		return malformed("message has %d elements: want [method, args]", n)
	case parts[0].kind != kindString || parts[0].class == classOther:
		return malformed("message method is not a string or a symbol")
	case parts[1].kind != kindArray:
		return malformed("message args are not an array")
	}
	return nil
}

// The keys that make an object something other than a record, or that
// mean something in one (decoder.object, decoder.errorRecord).
const (
	keyTag     = "#tag"
	keyPayload = "payload"
	keyError   = "#error"
	keyName    = "name"
	keyMessage = "message"
)

// object reads the members after '{' and the closing '}', then decides, as
// decoder.object does, whether it was a tagged value, an error or a record,
// and whether it was a good one. Every member's value has been checked as
// a value by then, which is what Decode does too: a tag, an error's message
// and name must be plain strings, and checking those as values has no
// effect on the slots.
func (v *validator) object(depth int) error {
	// Keys seen so far, to refuse a repeated key: in the common small
	// record they are compared in place; past 16, by their unquoted text.
	var small [16]jstr
	var large map[string]struct{}
	n := 0
	var (
		hasTag, hasPayload, hasError, hasName, hasMessage bool
		tagOK, errorOK, nameOK                            bool
		recordKeysOK                                      = true
	)
	v.skipSpace()
	if v.peek() == '}' {
		v.pos++
		return nil
	}
	for {
		v.skipSpace()
		if v.peek() != '"' {
			return v.syntax("expected a string object key")
		}
		key, err := v.scanString()
		if err != nil {
			return err
		}
		if n < len(small) {
			for _, prior := range small[:n] {
				if prior.equal(key) {
					return malformed("key %q is repeated", key.unquote())
				}
			}
			small[n] = key
		} else {
			if large == nil {
				large = make(map[string]struct{}, 2*len(small))
				for _, prior := range small {
					large[prior.unquote()] = struct{}{}
				}
			}
			k := key.unquote()
			if _, dup := large[k]; dup {
				return malformed("key %q is repeated", k)
			}
			large[k] = struct{}{}
		}
		n++
		v.skipSpace()
		if v.peek() != ':' {
			return v.syntax("expected ':' after object key")
		}
		v.pos++
		v.skipSpace()
		r, err := v.value(depth + 1)
		if err != nil {
			return err
		}
		plain := r.kind == kindString && r.class == classString
		switch key.known() {
		case keyTag:
			hasTag, tagOK = true, plain
		case keyPayload:
			hasPayload = true
		case keyError:
			hasError, errorOK = true, plain
		case keyName:
			hasName, nameOK = true, plain
		case keyMessage:
			hasMessage = true
		}
		if !key.isStringForm() {
			// A record's property names must decode to strings, and a
			// name starting with "#" names a record type (which only
			// #tag and #error are).
			recordKeysOK = false
		}
		v.skipSpace()
		switch v.peek() {
		case ',':
			v.pos++
			continue
		case '}':
			v.pos++
		default:
			return v.syntax("expected ',' or '}' after object member")
		}
		break
	}
	switch {
	case hasTag:
		if n != 2 || !hasPayload {
			return malformed("tagged value must have exactly #tag and payload")
		}
		if !tagOK {
			return malformed("tag must be a string")
		}
	case hasError:
		switch {
		case !errorOK:
			return malformed("error message must be a string")
		case !hasName:
			return malformed("error without a name")
		case !nameOK:
			return malformed("error name must be a string")
		case hasMessage:
			return malformed("unexpected encoded error property %q", keyMessage)
		}
	case !recordKeysOK:
		return malformed("record has a property name that is not a string or names an unknown record type")
	}
	return nil
}

// stringValue checks what a JSON string decodes to as a value, as
// decoder.str does, and records the slot it names, if any.
func (v *validator) stringValue(s jstr) (strClass, error) {
	if s.len() == 0 {
		return classString, nil
	}
	r0, i := s.rune(0)
	if !isSpecial(r0) {
		return classString, nil
	}
	switch r0 {
	case '!':
		if i == s.len() {
			return 0, malformed("needless escape in %q", s.unquote())
		}
		if r1, _ := s.rune(i); !isSpecial(r1) {
			return 0, malformed("needless escape in %q", s.unquote())
		}
		return classString, nil
	case '#':
		if s.is("#undefined") || s.is("#NaN") || s.is("#Infinity") || s.is("#-Infinity") {
			return classOther, nil
		}
		return 0, malformed("unknown constant %q", s.unquote())
	case '+', '-':
		if i == s.len() {
			return 0, malformed("bigint %q is not a decimal integer", s.unquote())
		}
		for i < s.len() {
			var r rune
			r, i = s.rune(i)
			if r < '0' || r > '9' {
				return 0, malformed("bigint %q is not a decimal integer", s.unquote())
			}
		}
		return classOther, nil
	case '%':
		return classSymbol, nil
	case '$', '&':
		return classOther, v.slot(s, i, r0 == '&')
	}
	return 0, malformed("special character %q is reserved: %q", r0, s.unquote())
}

// slot checks "$N", "$N.iface" or "&N" (digits from rune offset i), as
// decoder.slot does, and records how it names slot N.
func (v *validator) slot(s jstr, i int, promise bool) error {
	// The index: decimal digits up to the first '.', no leading zero, as
	// slotIndex reads them.
	start, idx, digits, overflow := i, 0, 0, false
	hasIface := false
	for i < s.len() {
		r, next := s.rune(i)
		if r == '.' {
			hasIface = true
			break
		}
		if r < '0' || r > '9' || digits == 1 && idx == 0 {
			return malformed("bad slot index in %q", s.unquote())
		}
		if idx > (maxInt-9)/10 {
			overflow = true // beyond any slice's length: out of range
		} else {
			idx = idx*10 + int(r-'0')
		}
		digits++
		i = next
	}
	if promise && hasIface {
		return malformed("promise %q has an interface", s.unquote())
	}
	if digits == 0 || i == start {
		return malformed("bad slot index in %q", s.unquote())
	}
	if overflow || idx >= len(v.slots) {
		return malformed("slot index %s out of range (%d slots)", s.unquote()[1:1+digits], len(v.slots))
	}
	if v.slots[idx] == "" {
		return malformed("slot %d is empty", idx)
	}
	return v.name(idx, promise)
}

// maxInt is the largest int.
const maxInt = int(^uint(0) >> 1)

// name records that the body names slot idx as a promise or a remotable;
// naming one slot both ways is malformed.
func (v *validator) name(idx int, promise bool) error {
	bit, other := uint8(namedRemotable), uint8(namedPromise)
	if promise {
		bit, other = other, bit
	}
	var had uint8
	if v.many != nil {
		had = v.many[idx]
		v.many[idx] |= bit
	} else {
		m := uint64(1) << idx
		if v.asRemotable&m != 0 {
			had |= namedRemotable
		}
		if v.asPromise&m != 0 {
			had |= namedPromise
		}
		if promise {
			v.asPromise |= m
		} else {
			v.asRemotable |= m
		}
	}
	if had&other != 0 {
		return malformed("slot %d named both as a promise and as a remotable", idx)
	}
	return nil
}

// named reports whether the body named slot i.
func (v *validator) named(i int) bool {
	if v.many != nil {
		return v.many[i] != 0
	}
	return (v.asRemotable|v.asPromise)&(uint64(1)<<i) != 0
}

// isSpecial reports whether a string starting with r needs smallcaps' "!"
// escape (startsSpecial, for a decoded rune).
func isSpecial(r rune) bool { return r >= '!' && r <= '-' }

// ---- JSON lexing ----

func (v *validator) peek() byte {
	if v.pos < len(v.body) {
		return v.body[v.pos]
	}
	return 0
}

// skipSpace skips JSON whitespace (what encoding/json's isSpace allows).
func (v *validator) skipSpace() {
	for v.pos < len(v.body) {
		switch v.body[v.pos] {
		case ' ', '\t', '\n', '\r':
			v.pos++
		default:
			return
		}
	}
}

func (v *validator) syntax(format string, args ...any) error {
	return malformed("body is not JSON: "+format+" (offset %d)", append(args, v.pos+len(smallcapsPrefix))...)
}

func (v *validator) literal(word string) error {
	if len(v.body)-v.pos < len(word) || v.body[v.pos:v.pos+len(word)] != word {
		return v.syntax("invalid literal (want %s)", word)
	}
	v.pos += len(word)
	return nil
}

// number reads a JSON number and checks, as decoder.value does, that it is
// finite as a float64.
func (v *validator) number() error {
	_, err := v.scanNumber()
	return err
}

// scanNumber reads a JSON number (the grammar encoding/json accepts) and
// returns its value, refusing one that is not finite as a float64.
func (v *validator) scanNumber() (float64, error) {
	start := v.pos
	b := v.body
	i := v.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		v.pos = i
		return 0, v.syntax("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			v.pos = i
			return 0, v.syntax("invalid number: no digit after the decimal point")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			v.pos = i
			return 0, v.syntax("invalid number: no digit in the exponent")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	v.pos = i
	// The same conversion as Decode's, on the same text: the same verdict.
	f, err := strconv.ParseFloat(b[start:i], 64)
	if err != nil || !isFinite(f) {
		return 0, malformed("number %s is out of range", b[start:i])
	}
	return f, nil
}

// scanString reads a JSON string at v.pos (its opening quote) and returns
// its raw content. Like encoding/json it refuses control characters and
// bad escapes, and accepts invalid UTF-8 (which unquotes to U+FFFD).
func (v *validator) scanString() (jstr, error) {
	b := v.body
	i := v.pos + 1
	start := i
	simple := true
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			v.pos = i + 1
			return jstr{raw: b[start:i], simple: simple}, nil
		case c == '\\':
			simple = false
			if i+1 >= len(b) {
				v.pos = i
				return jstr{}, v.syntax("unexpected end of JSON input in string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || hex4(b[i+2:i+6]) < 0 {
					v.pos = i
					return jstr{}, v.syntax("invalid \\u escape in string")
				}
				i += 6
			default:
				v.pos = i
				return jstr{}, v.syntax("invalid escape %q in string", b[i+1])
			}
		case c < ' ':
			v.pos = i
			return jstr{}, v.syntax("invalid character %q in string literal", c)
		case c >= utf8.RuneSelf:
			simple = false
			i++
		default:
			i++
		}
	}
	v.pos = i
	return jstr{}, v.syntax("unexpected end of JSON input in string")
}

// hex4 reads four hex digits, or returns -1.
func hex4(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// jstr is the raw content of a JSON string that scanString accepted,
// read rune by rune as encoding/json would unquote it, without copying.
type jstr struct {
	raw string
	// simple: no escape and no byte above ASCII, so raw is its own
	// unquoted text.
	simple bool
}

func (s jstr) len() int { return len(s.raw) }

// rune returns the unquoted rune at raw offset i and the offset after it:
// escapes decoded, surrogate pairs joined, and lone surrogates and invalid
// UTF-8 as U+FFFD, exactly as encoding/json's unquote does.
func (s jstr) rune(i int) (rune, int) {
	c := s.raw[i]
	if c < utf8.RuneSelf && c != '\\' {
		return rune(c), i + 1
	}
	if c >= utf8.RuneSelf {
		r, size := utf8.DecodeRuneInString(s.raw[i:])
		return r, i + size
	}
	switch e := s.raw[i+1]; e {
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'u':
		r := hex4(s.raw[i+2 : i+6])
		i += 6
		if !utf16.IsSurrogate(r) {
			return r, i
		}
		if i+6 <= len(s.raw) && s.raw[i] == '\\' && s.raw[i+1] == 'u' {
			if r2 := hex4(s.raw[i+2 : i+6]); r2 >= 0 {
				if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
					return d, i + 6
				}
			}
		}
		return unicode.ReplacementChar, i
	default: // '"', '\\', '/'
		return rune(e), i + 2
	}
}

// is reports whether s unquotes to lit (an ASCII constant).
func (s jstr) is(lit string) bool {
	if s.simple {
		return s.raw == lit
	}
	i, j := 0, 0
	for i < len(s.raw) && j < len(lit) {
		var r rune
		r, i = s.rune(i)
		if r != rune(lit[j]) {
			return false
		}
		j++
	}
	return i == len(s.raw) && j == len(lit)
}

// known returns which of the keys that mean something in an object s
// unquotes to, or "".
func (s jstr) known() string {
	if s.simple {
		switch s.raw {
		case keyTag, keyPayload, keyError, keyName, keyMessage:
			return s.raw
		}
		return ""
	}
	for _, k := range [...]string{keyTag, keyPayload, keyError, keyName, keyMessage} {
		if s.is(k) {
			return k
		}
	}
	return ""
}

// equal reports whether s and t unquote to the same text.
func (s jstr) equal(t jstr) bool {
	if s.simple && t.simple {
		return s.raw == t.raw
	}
	i, j := 0, 0
	for i < len(s.raw) && j < len(t.raw) {
		var a, b rune
		a, i = s.rune(i)
		b, j = t.rune(j)
		if a != b {
			return false
		}
	}
	return i == len(s.raw) && j == len(t.raw)
}

// isStringForm reports whether s decodes to a string (it is not special,
// or it is a needed "!" escape): what a record's property names, a tag and
// an error's message and name must be.
func (s jstr) isStringForm() bool {
	if len(s.raw) == 0 {
		return true
	}
	r0, i := s.rune(0)
	if !isSpecial(r0) {
		return true
	}
	if r0 != '!' || i == len(s.raw) {
		return false
	}
	r1, _ := s.rune(i)
	return isSpecial(r1)
}

// unquote returns s's unquoted text (it allocates: for errors and large
// records only).
func (s jstr) unquote() string {
	if s.simple {
		return s.raw
	}
	b := make([]byte, 0, len(s.raw))
	for i := 0; i < len(s.raw); {
		var r rune
		r, i = s.rune(i)
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}
