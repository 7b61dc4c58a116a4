package marshal

import (
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bodies and slots to the decoder. It must
// never panic, and whatever it accepts must re-encode, decode back to the
// same value, and re-encode to the same body (the canonical form).
// Seeds: every vector (added below) and the corpus in testdata/fuzz.
func FuzzDecode(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Body, strings.Join(v.Slots, ","))
	}
	f.Fuzz(func(t *testing.T, body, slots string) {
		var ss []string
		if slots != "" {
			ss = strings.Split(slots, ",")
		}
		v, err := Decode(CapData{Body: body, Slots: ss})
		if slot, promise, ok := SingleRef(CapData{Body: body, Slots: ss}); ok && err == nil {
			// The kernel's look into a body agrees with the decoder.
			r, isRef := v.(Ref)
			if !isRef || r.Slot != slot || r.Promise != promise {
				t.Fatalf("SingleRef(%q) = %q, %v but Decode gives %#v", body, slot, promise, v)
			}
		}
		if err != nil {
			return
		}
		enc, err := Encode(v)
		if err != nil {
			t.Fatalf("decoded %q to %#v, which does not encode: %v", body, v, err)
		}
		v2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", enc.Body, err)
		}
		if !equalValues(v, v2) {
			t.Fatalf("round trip changed the value: %#v -> %q -> %#v", v, enc.Body, v2)
		}
		enc2, err := Encode(v2)
		if err != nil || enc2.Body != enc.Body {
			t.Fatalf("encoding is not canonical: %q then %q (%v)", enc.Body, enc2.Body, err)
		}
	})
}
