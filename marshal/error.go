package marshal

import "fmt"

// EncodeError marshals an error as @endo/marshal's smallcaps does with
// error tagging off: #{"#error":<message>,"name":<name>}. The kernel uses
// it for the rejections it makes itself.
func EncodeError(name, message string) CapData {
	e := &encoder{c: &Codec{}, b: []byte(smallcapsPrefix)}
	e.err(name, message)
	return CapData{Body: string(e.b)}
}

// DecodeError reads an error value (as EncodeError or @endo/marshal
// writes it). ok is false when c is anything else.
func DecodeError(c CapData) (name, message string, ok bool) {
	v, err := Decode(c)
	if err != nil {
		return "", "", false
	}
	e, ok := v.(*Error)
	if !ok {
		return "", "", false
	}
	return e.Name, e.Message, true
}

// EncodeString marshals a plain string value.
func EncodeString(s string) CapData {
	return CapData{Body: string(appendSmallcapsString([]byte(smallcapsPrefix), s))}
}

// DecodeString reads a plain string value.
func DecodeString(c CapData) (string, error) {
	v, err := Decode(c)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %T, not a string", ErrMalformed, v)
	}
	return s, nil
}
