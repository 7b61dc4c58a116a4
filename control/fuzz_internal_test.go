package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/clusterfile"
	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
)

// hostCodec marshals as the kernel's host does: a kernel.KRef is a slot.
var hostCodec = marshal.Codec{
	SlotOf: func(v any) (marshal.Ref, bool, error) {
		if k, ok := v.(kernel.KRef); ok {
			return marshal.Ref{Slot: string(k), Promise: k.IsPromise()}, true, nil
		}
		return marshal.Ref{}, false, nil
	},
	ValueOf: func(r marshal.Ref) (any, error) { return kernel.KRef(r.Slot), nil },
}

// decodeAs runs the handlers' body decoder on body into a fresh T.
func decodeAs[T any](s *Server, body []byte) (T, error) {
	var v T
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	return v, s.decode(httptest.NewRecorder(), r, &v)
}

// badRequest4xx fails unless err is one a client caused: 400 or 413, with
// a message.
func badRequest4xx(t *testing.T, err error, what string) {
	t.Helper()
	e := classify(err)
	require.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, e.Status, "%s: %v", what, err)
	require.NotEmpty(t, e.Message)
}

// FuzzDecodeBodies runs every decoder the handlers use over one body:
// the JSON bodies of send (its idempotency key too), terminate, upgrade,
// revoke and release, the tagged values of send's arguments, and launch's
// cluster config. None panics, and whatever they refuse is the client's
// fault (400 or 413), never a 500. Every argument they accept either has
// a smallcaps form, or is refused by the marshaller as unpassable (which
// the API answers 400); and it survives the trip back to JSON and in
// again exactly. The seed corpus is in testdata/fuzz/FuzzDecodeBodies.
func FuzzDecodeBodies(f *testing.F) {
	f.Add([]byte(`{"target": "ko1", "method": "echo", "args": [1, 1.5, "s", null, true, {"@bigint": "-12"}, {"@float": "NaN"}, {"@undefined": true}, {"@kref": "kp3"}, {"@symbol": "x"}, {"@error": {"name": "TypeError", "message": "m"}}, {"@tagged": "t", "payload": [1]}, {"a": {"@kref": "ko2"}, "@b": 2}]}`))
	f.Add([]byte(`{"target": "ko1", "method": "incr", "args": [], "idempotencyKey": "k-1"}`))
	f.Add([]byte(`{"reason": "r"}`))
	f.Add([]byte(`{"bundle": "b"}`))
	f.Add([]byte(`{"kref": "ko1"}`))
	f.Add([]byte(`#{"@kref":"ko9"}`))
	f.Add([]byte(`#["$0.Alleged: x",{"@tagged":"&1","payload":"+7"}]`))
	s := &Server{MaxBody: 1 << 16}
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := decodeAs[TerminateRequest](s, body); err != nil {
			badRequest4xx(t, err, "terminate")
		}
		if _, err := decodeAs[UpgradeRequest](s, body); err != nil {
			badRequest4xx(t, err, "upgrade")
		}
		if req, err := decodeAs[KRefRequest](s, body); err != nil {
			badRequest4xx(t, err, "kref")
		} else if _, err := kernel.ParseKRef(req.KRef); err != nil {
			badRequest4xx(t, err, "kref's kref")
		}
		if _, err := clusterfile.Parse(body, clusterfile.Options{}); err != nil {
			badRequest4xx(t, err, "launch")
		}
		// The body as a result a vat sent: whatever decodes goes out to
		// JSON and back in as the same value (a record of a tagged form's
		// shape must not come back as that form).
		if v, err := hostCodec.Decode(marshal.CapData{Body: string(body), Slots: []string{"ko1", "kp2", "ko3"}}); err == nil {
			if data, err := hostCodec.Encode(v); err == nil {
				back, err := FromJSON(roundTrip(t, ToJSON(v)), "result")
				require.NoError(t, err, "result %#v", v)
				again, err := hostCodec.Encode(back)
				require.NoError(t, err)
				require.Equal(t, data, again, "result %#v", v)
			}
		}
		req, err := decodeAs[SendRequest](s, body)
		if err != nil {
			badRequest4xx(t, err, "send")
			return
		}
		if _, err := sendKey(httptest.NewRequest(http.MethodPost, "/", nil), req.IdempotencyKey); err != nil {
			badRequest4xx(t, err, "send's idempotency key")
		}
		for i, a := range req.Args {
			v, err := FromJSON(a, "args")
			if err != nil {
				badRequest4xx(t, err, "send args")
				continue
			}
			data, err := hostCodec.Encode(v)
			if err != nil {
				require.True(t, errors.Is(err, marshal.ErrUnpassable), "arg %d: %v", i, err)
				badRequest4xx(t, err, "send args (marshal)")
				continue
			}
			// Out to JSON and in again: the same value, exactly.
			back, err := FromJSON(roundTrip(t, ToJSON(v)), "back")
			require.NoError(t, err, "arg %d: %#v", i, v)
			again, err := hostCodec.Encode(back)
			require.NoError(t, err)
			require.Equal(t, data, again, "arg %d", i)
		}
	})
}

// roundTrip sends v through JSON as the client and the server do.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	js, err := json.Marshal(v)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var out any
	require.NoError(t, dec.Decode(&out))
	return out
}
