package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// errBadValue marks an argument that does not convert.
var errBadValue = errors.New("bad value")

// FromJSON turns a JSON value (decoded with UseNumber) into the Go value
// the kernel passes: whole numbers become int64, others float64, and the
// tagged forms their Go types.
func FromJSON(v any, path string) (any, error) {
	switch v := v.(type) {
	case nil, bool, string:
		return v, nil
	case json.Number:
		if isInteger(string(v)) {
			// Whole numbers pass exactly or not at all: past ±2^53 a
			// JavaScript vat would round them, so they must be asked for
			// as bigints.
			i, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil || i > maxSafeInt || i < -maxSafeInt {
				return nil, fmt.Errorf(`%w: %s: %s is beyond ±2^53, where numbers lose precision; send {"@bigint": "%s"} for an exact integer`, errBadValue, path, v, v)
			}
			return i, nil
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: number %s out of range", errBadValue, path, v)
		}
		return f, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			var err error
			if out[i], err = FromJSON(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	case map[string]any:
		if t, ok := tagOf(v); ok {
			return fromTagged(t, v, path)
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			var err error
			if out[k], err = FromJSON(e, path+"."+k); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s: unexpected %T", errBadValue, path, v)
}

// maxSafeInt is 2^53-1, JavaScript's Number.MAX_SAFE_INTEGER: the
// largest integer a JavaScript number holds with every one below it
// (package marshal refuses larger int64s).
const maxSafeInt = 1<<53 - 1

// isInteger reports whether a JSON number is written as a whole number
// (no fraction, no exponent).
func isInteger(n string) bool {
	return !strings.ContainsAny(n, ".eE")
}

// has reports whether m has key (with any value, null included).
func has(m map[string]any, key string) bool {
	_, ok := m[key]
	return ok
}

// tagOf reports the "@..." key of a tagged form. Only one-key objects
// (two for @tagged) are tagged forms; an ordinary record with an "@" key
// among others stays a record.
func tagOf(m map[string]any) (string, bool) {
	for k := range m {
		if len(k) > 1 && k[0] == '@' && (len(m) == 1 || k == "@tagged" && len(m) == 2) {
			return k, true
		}
	}
	return "", false
}

// fromTagged reads one tagged form strictly: a form with a part missing,
// of the wrong type, or with parts it does not have is refused naming the
// form and what it wants, never read as some other value.
func fromTagged(tag string, m map[string]any, path string) (any, error) {
	bad := func(want string) error {
		return fmt.Errorf("%w: %s: %s wants %s", errBadValue, path, tag, want)
	}
	switch tag {
	case "@kref":
		s, ok := m[tag].(string)
		if !ok {
			return nil, bad("a string such as \"ko4\"")
		}
		if _, err := kernel.ParseKRef(s); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return kernel.KRef(s), nil
	case "@bigint":
		s, ok := m[tag].(string)
		n, ok2 := new(big.Int).SetString(s, 10)
		if !ok || !ok2 {
			return nil, bad("a decimal string")
		}
		return n, nil
	case "@float":
		switch m[tag] {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		return nil, bad(`"NaN", "Infinity" or "-Infinity"`)
	case "@undefined":
		if m[tag] != true {
			return nil, bad("true")
		}
		return marshal.Undefined, nil
	case "@symbol":
		s, ok := m[tag].(string)
		if !ok {
			return nil, bad("a string")
		}
		return marshal.Symbol(s), nil
	case "@error":
		e, ok := m[tag].(map[string]any)
		name, nameOK := e["name"].(string)
		msg, msgOK := e["message"].(string)
		if _, has := e["message"]; !has {
			msgOK = true // the message may be left out: ""
		}
		if !ok || !nameOK || name == "" || !msgOK || len(e) > 2 || len(e) == 2 && !has(e, "message") {
			return nil, bad(`{"name": "a non-empty string", "message": "a string"} and nothing else`)
		}
		return &marshal.Error{Name: name, Message: msg}, nil
	case "@record":
		// A record whose keys would read as a tagged form, as ToJSON
		// writes it: its entries are values, its keys only keys.
		rec, ok := m[tag].(map[string]any)
		if !ok {
			return nil, bad("an object: the record")
		}
		out := make(map[string]any, len(rec))
		for k, e := range rec {
			var err error
			if out[k], err = FromJSON(e, path+"."+k); err != nil {
				return nil, err
			}
		}
		return out, nil
	case "@tagged":
		t, ok := m[tag].(string)
		if !ok || !has(m, "payload") {
			return nil, bad(`a string tag, with "payload" beside it`)
		}
		p, err := FromJSON(m["payload"], path+".payload")
		if err != nil {
			return nil, err
		}
		return marshal.Tagged{Tag: t, Payload: p}, nil
	}
	return nil, fmt.Errorf("%w: %s: unknown tagged form %s (want @kref, @bigint, @float, @undefined, @symbol, @error, @tagged or @record)", errBadValue, path, tag)
}

// ToJSON turns a result into JSON-ready values (tagged forms for what
// JSON lacks), the inverse of FromJSON.
func ToJSON(v any) any {
	switch v := v.(type) {
	case nil, bool, string, int64:
		return v
	case float64:
		switch {
		case math.IsNaN(v):
			return map[string]any{"@float": "NaN"}
		case math.IsInf(v, 1):
			return map[string]any{"@float": "Infinity"}
		case math.IsInf(v, -1):
			return map[string]any{"@float": "-Infinity"}
		case v == math.Trunc(v) && math.Abs(v) > maxSafeInt:
			// encoding/json writes 1e16 as 10000000000000000, which
			// FromJSON would read as an integer past 2^53 and refuse: the
			// exponent form keeps it a float (found by FuzzDecodeBodies).
			return json.Number(strconv.FormatFloat(v, 'e', -1, 64))
		}
		return v
	case kernel.KRef:
		return map[string]any{"@kref": string(v)}
	case *big.Int:
		return map[string]any{"@bigint": v.String()}
	case marshal.UndefinedType:
		return map[string]any{"@undefined": true}
	case marshal.Symbol:
		return map[string]any{"@symbol": string(v)}
	case *marshal.Error:
		return map[string]any{"@error": map[string]any{"name": v.Name, "message": v.Message}}
	case marshal.Tagged:
		return map[string]any{"@tagged": v.Tag, "payload": ToJSON(v.Payload)}
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = ToJSON(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v)) // encoding/json sorts the keys
		for k, e := range v {
			out[k] = ToJSON(e)
		}
		if _, tagged := tagOf(out); tagged || len(out) == 1 && has(out, "@record") {
			// A record that would read back as a tagged form: a vat's
			// data {"@kref": "ko5"} must not pass for a reference.
			return map[string]any{"@record": out}
		}
		return out
	}
	return fmt.Sprintf("%v", v) // not expected from the host codec
}
