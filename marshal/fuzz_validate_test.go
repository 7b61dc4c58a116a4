package marshal

import (
	"strings"
	"testing"
)

// FuzzValidate checks the validator against the decoder: for any body and
// slots, Validate accepts exactly when Decode accepts and the body names
// every slot, and ValidateMessage accepts exactly when, in addition, the
// value is [method, args] with a string or symbol method and an array of
// args. Errors wrap ErrMalformed, and neither panics. Seeds: every vector
// (added below), the tricky cases of the unit test, and the corpus in
// testdata/fuzz/FuzzValidate.
func FuzzValidate(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Body, strings.Join(v.Slots, ","))
	}
	for _, tt := range tricky {
		f.Add(tt.body, strings.Join(tt.slots, ","))
	}
	f.Fuzz(func(t *testing.T, body, slots string) {
		var ss []string
		if slots != "" {
			ss = strings.Split(slots, ",")
		}
		agree(t, CapData{Body: body, Slots: ss})
	})
}
