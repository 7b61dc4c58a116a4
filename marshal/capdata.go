package marshal

import "strings"

// CapData is a marshalled value: a smallcaps body ("#" followed by JSON)
// and the refs its remotables ("$N...") and promises ("&N") point at.
type CapData struct {
	Body  string
	Slots []string
}

// Clone returns a copy that shares nothing with c.
func (c CapData) Clone() CapData {
	if c.Slots == nil {
		return CapData{Body: c.Body}
	}
	return CapData{Body: c.Body, Slots: append([]string(nil), c.Slots...)}
}

// String shows the value compactly for logs and test output.
func (c CapData) String() string {
	if len(c.Slots) == 0 {
		return c.Body
	}
	return c.Body + " [" + strings.Join(c.Slots, " ") + "]"
}

// smallcapsPrefix starts every smallcaps body.
const smallcapsPrefix = "#"
