package marshal

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
)

// encoder is one Encode call: the body being written and the slots named.
type encoder struct {
	c     *Codec
	b     []byte
	slots []string
	// index maps slot -> index, so a ref named twice uses one slot; made
	// only past indexAbove slots (fewer are found by a scan of slots).
	index map[string]int
	depth int
}

// Encode marshals v as @endo/marshal's smallcaps does, byte for byte. The
// Go mapping:
//
//	nil                          null
//	bool                         boolean
//	int*, uint* (|v| <= 2^53)    number (larger ones need *big.Int)
//	float32, float64             number; NaN, ±Inf as "#NaN", "#Infinity"; -0 as 0
//	*big.Int                     bigint ("+N", "-N")
//	string                       string ("!"-escaped when it starts with !"#$%&'()*+,-)
//	Undefined                    undefined
//	[]any, other slices/arrays   array
//	map[string]any, map[string]T record, keys in JavaScript's sort order
//	Tagged                       tagged value
//	*Error, other error          error: name and message, never a stack
//	Symbol                       symbol ("%name")
//	Ref, or what SlotOf accepts  remotable ("$N.iface") or promise ("&N")
func (c *Codec) Encode(v any) (CapData, error) {
	e := &encoder{c: c, b: append(make([]byte, 0, 64), smallcapsPrefix...)}
	if err := e.value(v); err != nil {
		return CapData{}, err
	}
	return CapData{Body: string(e.b), Slots: e.slots}, nil
}

func (e *encoder) value(v any) error {
	switch x := v.(type) {
	case nil:
		e.b = append(e.b, "null"...)
	case bool:
		e.b = strconv.AppendBool(e.b, x)
	case string:
		e.b = appendSmallcapsString(e.b, x)
	case UndefinedType:
		e.b = append(e.b, `"#undefined"`...)
	case float64:
		e.float(x)
	case float32:
		e.float(float64(x))
	case int:
		return e.int(int64(x))
	case int8:
		return e.int(int64(x))
	case int16:
		return e.int(int64(x))
	case int32:
		return e.int(int64(x))
	case int64:
		return e.int(x)
	case uint:
		return e.uint(uint64(x))
	case uint8:
		return e.uint(uint64(x))
	case uint16:
		return e.uint(uint64(x))
	case uint32:
		return e.uint(uint64(x))
	case uint64:
		return e.uint(x)
	case *big.Int:
		if x == nil {
			return unpassable("nil *big.Int")
		}
		e.b = append(e.b, '"')
		if x.Sign() >= 0 {
			e.b = append(e.b, '+')
		}
		e.b = x.Append(e.b, 10)
		e.b = append(e.b, '"')
	case Symbol:
		e.b = appendJSONString(e.b, "%"+string(x))
	case Ref:
		return e.ref(x)
	case *Ref:
		if x == nil {
			return unpassable("nil *Ref")
		}
		return e.ref(*x)
	case Tagged:
		return e.tagged(x)
	case *Tagged:
		if x == nil {
			return unpassable("nil *Tagged")
		}
		return e.tagged(*x)
	case []any:
		return e.array(len(x), func(i int) any { return x[i] })
	case map[string]any:
		return e.record(x)
	case *Error:
		if x == nil {
			return unpassable("nil *Error")
		}
		return e.err(x.Name, x.Message)
	default:
		// A reference the codec's user knows about?
		if e.c.SlotOf != nil {
			r, ok, err := e.c.SlotOf(v)
			if err != nil {
				return err
			}
			if ok {
				return e.ref(r)
			}
		}
		if err, ok := v.(error); ok {
			return e.err("Error", err.Error())
		}
		return e.reflect(v)
	}
	return nil
}

func (e *encoder) float(f float64) {
	switch {
	case math.IsNaN(f):
		e.b = append(e.b, `"#NaN"`...)
	case math.IsInf(f, 1):
		e.b = append(e.b, `"#Infinity"`...)
	case math.IsInf(f, -1):
		e.b = append(e.b, `"#-Infinity"`...)
	default:
		e.b = appendJSNumber(e.b, f)
	}
}

func (e *encoder) int(n int64) error {
	if n > maxSafeInteger || n < -maxSafeInteger {
		return unpassable("integer %d is beyond ±2^53, where JavaScript numbers lose precision; use *big.Int", n)
	}
	e.b = strconv.AppendInt(e.b, n, 10)
	return nil
}

func (e *encoder) uint(n uint64) error {
	if n > maxSafeInteger {
		return unpassable("integer %d is beyond 2^53, where JavaScript numbers lose precision; use *big.Int", n)
	}
	e.b = strconv.AppendUint(e.b, n, 10)
	return nil
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > e.c.maxDepth() {
		return unpassable("nesting deeper than %d", e.c.maxDepth())
	}
	return nil
}

func (e *encoder) leave() { e.depth-- }

func (e *encoder) array(n int, at func(int) any) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	e.b = append(e.b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		if err := e.value(at(i)); err != nil {
			return err
		}
	}
	e.b = append(e.b, ']')
	return nil
}

func (e *encoder) record(m map[string]any) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return e.entries(keys, func(k string) any { return m[k] })
}

func (e *encoder) entries(keys []string, at func(string) any) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	slices.SortFunc(keys, compareRecordKeys)
	e.b = append(e.b, '{')
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendSmallcapsString(e.b, k)
		e.b = append(e.b, ':')
		if err := e.value(at(k)); err != nil {
			return err
		}
	}
	e.b = append(e.b, '}')
	return nil
}

func (e *encoder) tagged(t Tagged) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	e.b = append(e.b, `{"#tag":`...)
	e.b = appendSmallcapsString(e.b, t.Tag)
	e.b = append(e.b, `,"payload":`...)
	if err := e.value(t.Payload); err != nil {
		return err
	}
	e.b = append(e.b, '}')
	return nil
}

func (e *encoder) err(name, message string) error {
	if name == "" {
		name = "Error"
	}
	e.b = append(e.b, `{"#error":`...)
	e.b = appendSmallcapsString(e.b, message)
	e.b = append(e.b, `,"name":`...)
	e.b = appendSmallcapsString(e.b, name)
	e.b = append(e.b, '}')
	return nil
}

// ref writes a reference, naming its slot once: the first mention carries
// the interface, later ones only the index (as @endo/marshal does).
func (e *encoder) ref(r Ref) error {
	if r.Slot == "" {
		return unpassable("reference with an empty slot")
	}
	prefix := byte('$')
	if r.Promise {
		prefix = '&'
	}
	i, seen := e.slotIndex(r.Slot)
	if !seen {
		i = len(e.slots)
		e.slots = append(e.slots, r.Slot)
		if e.index != nil {
			e.index[r.Slot] = i
		} else if len(e.slots) > indexAbove {
			e.index = make(map[string]int, 2*len(e.slots))
			for j, slot := range e.slots {
				e.index[slot] = j
			}
		}
	}
	// "$N", "$N.iface" or "&N": no character of it needs escaping but
	// those of the interface.
	var buf [24]byte
	b := strconv.AppendInt(append(buf[:0], prefix), int64(i), 10)
	if !seen && !r.Promise && r.Iface != "" {
		e.b = appendJSONString(e.b, string(append(append(b, '.'), r.Iface...)))
		return nil
	}
	e.b = append(append(append(e.b, '"'), b...), '"')
	return nil
}

// indexAbove is how many slots an encoder finds by scanning before it
// makes a map of them.
const indexAbove = 16

// slotIndex returns the index of slot if it has been named.
func (e *encoder) slotIndex(slot string) (int, bool) {
	if e.index != nil {
		i, ok := e.index[slot]
		return i, ok
	}
	for i, s := range e.slots {
		if s == slot {
			return i, true
		}
	}
	return 0, false
}

// reflect handles other slices, arrays and string-keyed maps.
func (e *encoder) reflect(v any) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return unpassable("[]byte: byte arrays are not passable yet (as in @endo/marshal)")
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return e.array(0, nil)
		}
		return e.array(rv.Len(), func(i int) any { return rv.Index(i).Interface() })
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return unpassable("map with %s keys: record keys must be strings", rv.Type().Key())
		}
		keys := make([]string, 0, rv.Len())
		vals := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k := iter.Key().String()
			keys = append(keys, k)
			vals[k] = iter.Value().Interface()
		}
		return e.entries(keys, func(k string) any { return vals[k] })
	case reflect.Pointer:
		if rv.IsNil() {
			return unpassable("nil %s", rv.Type())
		}
	}
	return unpassable("Go type %s has no smallcaps form", fmt.Sprintf("%T", v))
}
