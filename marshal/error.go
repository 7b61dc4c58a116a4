package marshal

import (
	"encoding/json"
	"fmt"
	"strings"
)

// EncodeError marshals an error as @endo/marshal's smallcaps does with
// error tagging off: #{"#error":<message>,"name":<name>}. The kernel uses
// it for the rejections it makes itself.
func EncodeError(name, message string) CapData {
	b := make([]byte, 0, len(message)+32)
	b = append(b, smallcapsPrefix...)
	b = append(b, `{"#error":`...)
	b = appendSmallcapsString(b, message)
	b = append(b, `,"name":`...)
	b = appendSmallcapsString(b, name)
	b = append(b, '}')
	return CapData{Body: string(b)}
}

// DecodeError reads an error encoded by EncodeError (or by @endo/marshal).
// ok is false when the body is not a smallcaps error record.
func DecodeError(c CapData) (name, message string, ok bool) {
	body, found := strings.CutPrefix(c.Body, smallcapsPrefix)
	if !found {
		return "", "", false
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		return "", "", false
	}
	rawMsg, ok1 := rec["#error"]
	rawName, ok2 := rec["name"]
	if !ok1 || !ok2 {
		return "", "", false
	}
	if json.Unmarshal(rawMsg, &message) != nil || json.Unmarshal(rawName, &name) != nil {
		return "", "", false
	}
	return unescape(name), unescape(message), true
}

// unescape undoes the smallcaps "!" escape of a string.
func unescape(s string) string {
	if strings.HasPrefix(s, "!") {
		return s[1:]
	}
	return s
}

// EncodeString marshals a plain string value.
func EncodeString(s string) CapData {
	return CapData{Body: string(appendSmallcapsString([]byte(smallcapsPrefix), s))}
}

// DecodeString reads a plain string value.
func DecodeString(c CapData) (string, error) {
	body, found := strings.CutPrefix(c.Body, smallcapsPrefix)
	if !found {
		return "", fmt.Errorf("marshal: body does not start with %q", smallcapsPrefix)
	}
	var s string
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return "", fmt.Errorf("marshal: not a string: %w", err)
	}
	if startsSpecial(s) {
		if s[0] != '!' {
			return "", fmt.Errorf("marshal: not a plain string (starts with %q)", s[:1])
		}
		s = s[1:]
	}
	return s, nil
}
