package jsvat

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSON decodes one JSON text into the plain values encoding/json's
// Unmarshal into an `any` gives: map[string]any, []any, string, float64,
// bool and nil. Every frame from a worker is decoded here, so it is
// written for the frames' cost: one pass over the bytes, no reflection,
// no scan for validity before the decode, and strings without escapes
// taken as one slice of the input. On a ping-pong crank's frames it does
// about a third of the allocations json.Unmarshal did, several times
// faster (BenchmarkDecodeInbound).
//
// INVARIANT: parseJSON accepts exactly the texts json.Unmarshal accepts
// into an `any`, and gives the same values (FuzzParseJSONMatchesStdlib
// checks both), so replacing one with the other changed no frame's fate:
// strict JSON grammar, at most maxDepth nested arrays and objects, no
// number beyond float64's range, a later duplicate key replacing an
// earlier one, an unpaired surrogate escape decoded as U+FFFD, and
// nothing after the value but white space. Only error texts differ.
//
// The caller has checked that the text is valid UTF-8 (decodeInbound
// does, first): raw bytes in strings are taken as they are.
func parseJSON(data []byte) (any, error) {
	p := jsonParser{data: data}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, p.errorf("data after the top-level value")
	}
	return v, nil
}

// maxDepth bounds nesting as encoding/json does (its maxNestingDepth): a
// frame of 64 MiB of '[' must be an error, not a recursion that exhausts
// the stack.
const maxDepth = 10000

// errJSON marks parseJSON's errors.
var errJSON = errors.New("invalid JSON")

type jsonParser struct {
	data []byte
	pos  int
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errJSON, p.pos, fmt.Sprintf(format, args...))
}

// skipSpace skips JSON white space: space, tab, newline, carriage return
// (and nothing else: a form feed or a non-breaking space is an error).
func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses one value at p.pos (white space before it skipped), at
// nesting depth depth.
func (p *jsonParser) value(depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.errorf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		s, boxed, err := p.str()
		if boxed != nil {
			return boxed, nil
		}
		return s, err
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	default:
		return nil, p.errorf("unexpected character %q", c)
	}
}

func (p *jsonParser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return p.errorf("invalid literal (want %s)", word)
	}
	p.pos += len(word)
	return nil
}

func (p *jsonParser) object(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested deeper than %d", maxDepth)
	}
	p.pos++ // '{'
	m := map[string]any{}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return m, nil
	}
	for {
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errorf("want an object key (a string)")
		}
		k, _, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errorf("want ':' after an object key")
		}
		p.pos++
		p.skipSpace()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		// A later duplicate replaces the earlier value, as in
		// encoding/json; the walk then sees one key, as before.
		m[k] = v
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in an object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case '}':
			p.pos++
			return m, nil
		default:
			return nil, p.errorf("want ',' or '}' in an object")
		}
	}
}

func (p *jsonParser) array(depth int) (any, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested deeper than %d", maxDepth)
	}
	p.pos++ // '['
	// Non-nil even when empty, as encoding/json gives.
	a := make([]any, 0, 4)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return a, nil
	}
	for {
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errorf("unexpected end of input in an array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case ']':
			p.pos++
			return a, nil
		default:
			return nil, p.errorf("want ',' or ']' in an array")
		}
	}
}

// str parses a string at p.pos (its opening quote). A word of the
// protocol comes back from the interned table, with boxed its value as an
// `any`: neither costs an allocation.
func (p *jsonParser) str() (s string, boxed any, err error) {
	p.pos++ // '"'
	start := p.pos
	// The common case first: no escape, so the string is the bytes between
	// the quotes, converted once.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			raw := p.data[start:p.pos]
			p.pos++
			// The conversion in a map index does not allocate.
			if v, ok := interned[string(raw)]; ok {
				return v.(string), v, nil
			}
			return string(raw), nil, nil
		case c == '\\':
			s, err := p.escapedStr(start)
			return s, nil, err
		case c < 0x20:
			return "", nil, p.errorf("control character %q in a string", c)
		}
		p.pos++
	}
	return "", nil, p.errorf("unterminated string")
}

// interned holds the strings every frame repeats (the envelope's keys
// and values, syscall kinds, the capdata keys), each boxed once. It is
// filled when the package loads and never written after, so it is not
// mutable state.
var interned = func() map[string]any {
	m := map[string]any{}
	for _, w := range []string{
		"jsonrpc", "2.0", "id", "method", "params", "result", "error", "code", "message",
		"syscall", "notify", "logger",
		"send", "subscribe", "resolve", "exit", "dropImports", "retireImports", "retireExports", "abandonExports",
		"methargs", "body", "slots",
		"level", "tags", "log", "info", "warn", "debug", "console", "liveslots", "vat", "worker",
	} {
		m[w] = w
	}
	return m
}()

// escapedStr finishes a string that has an escape at p.pos; start is its
// first byte.
func (p *jsonParser) escapedStr(start int) (string, error) {
	buf := make([]byte, 0, p.pos-start+16)
	buf = append(buf, p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(buf), nil
		case c < 0x20:
			return "", p.errorf("control character %q in a string", c)
		case c != '\\':
			buf = append(buf, c)
			p.pos++
			continue
		}
		// An escape.
		if p.pos+1 >= len(p.data) {
			return "", p.errorf("unterminated escape")
		}
		e := p.data[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("invalid \\u escape")
			}
			// A surrogate pair is one code point; a lone surrogate is
			// U+FFFD, as encoding/json decodes it. The second escape is
			// consumed only if it completes a valid pair; otherwise it is
			// read next, on its own.
			if utf16.IsSurrogate(r) {
				if r2, ok := p.peekHex4Escape(); ok {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						p.pos += 6
						buf = utf8.AppendRune(buf, dec)
						continue
					}
				}
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.errorf("invalid escape \\%c", e)
		}
	}
	return "", p.errorf("unterminated string")
}

// hex4 reads the four hex digits of a \u escape at p.pos.
func (p *jsonParser) hex4() (rune, bool) {
	if len(p.data)-p.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	p.pos += 4
	return r, true
}

// peekHex4Escape reads, without consuming it, a \uXXXX escape at p.pos.
func (p *jsonParser) peekHex4Escape() (rune, bool) {
	if len(p.data)-p.pos < 6 || p.data[p.pos] != '\\' || p.data[p.pos+1] != 'u' {
		return 0, false
	}
	save := p.pos
	p.pos += 2
	r, ok := p.hex4()
	p.pos = save
	return r, ok
}

// number parses a number at p.pos, in JSON's grammar exactly:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) number() (any, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(p.data) && p.data[p.pos] == '0':
		p.pos++
	case p.pos < len(p.data) && p.data[p.pos] >= '1' && p.data[p.pos] <= '9':
		p.digits()
	default:
		return nil, p.errorf("invalid number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if !p.digits() {
			return nil, p.errorf("invalid number: no digit after '.'")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if !p.digits() {
			return nil, p.errorf("invalid number: no digit in the exponent")
		}
	}
	// As encoding/json: a number float64 cannot hold (1e400) is an error,
	// not an infinity.
	f, err := strconv.ParseFloat(string(p.data[start:p.pos]), 64)
	if err != nil {
		return nil, p.errorf("number %s: out of range", p.data[start:p.pos])
	}
	return f, nil
}

// digits skips a run of decimal digits and reports whether there was one.
func (p *jsonParser) digits() bool {
	start := p.pos
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
	}
	return p.pos > start
}
