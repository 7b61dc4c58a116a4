package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/control"
)

// FuzzSend posts send requests to the API over a real kernel, to a vat
// that echoes its arguments: no request gets a 5xx (a bad argument is the
// client's fault, a 4xx naming it), and what the vat echoes is what was
// sent, value for value, in the API's JSON forms. The seed corpus is in
// testdata/fuzz/FuzzSend.
func FuzzSend(f *testing.F) {
	f.Add("echo", []byte(`[1, "x", {"@bigint": "12"}, {"@kref": "ko1"}, {"@record": {"@kref": "ko1"}}]`))
	f.Add("echo", []byte(`[9007199254740993]`))
	f.Add("fly", []byte(`[]`))
	ctx := context.Background()
	reg := registry()
	k, err := actors.Start(ctx, actors.Config{Registry: reg})
	require.NoError(f, err)
	f.Cleanup(func() { k.Stop(ctx) })
	h := (&control.Server{Kernel: k, Token: token, Registry: reg, MaxBody: 1 << 16}).Handler()
	post := func(path string, body []byte) (int, []byte) {
		r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.Bytes()
	}
	code, out := post("/v1/subclusters", []byte("bootstrap: counter\nvats:\n  counter: {bundle: counter}\n"))
	require.Equal(f, http.StatusOK, code, "%s", out)
	var launched control.LaunchResponse
	require.NoError(f, json.Unmarshal(out, &launched))

	f.Fuzz(func(t *testing.T, method string, args []byte) {
		body, err := json.Marshal(map[string]any{"target": launched.RootKref, "method": method, "args": json.RawMessage(args)})
		if err != nil {
			body = append([]byte(`{"target": "`+launched.RootKref+`", "method": "echo", "args": `), args...)
			body = append(body, '}')
		}
		code, out := post("/v1/send", body)
		require.Less(t, code, 500, "a 5xx for %s: %s", body, out)
		if code != http.StatusOK {
			var eb control.ErrorBody
			require.NoError(t, json.Unmarshal(out, &eb), "%s", out)
			require.Equal(t, code, eb.Error.Status)
			require.NotEmpty(t, eb.Error.Message)
			return
		}
		if method != "echo" || bytes.Contains(args, []byte(`"kp`)) {
			return // a promise may come back settled, as its value
		}
		var sent []any
		dec := json.NewDecoder(bytes.NewReader(args))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&sent))
		want := make([]any, len(sent))
		for i, a := range sent {
			v, err := control.FromJSON(a, "args")
			require.NoError(t, err)
			want[i] = control.ToJSON(v)
		}
		wantJS, err := json.Marshal(want)
		require.NoError(t, err)
		var got control.SendResponse
		require.NoError(t, json.Unmarshal(out, &got))
		require.JSONEq(t, string(wantJS), string(got.Result), "sent %s", strings.TrimSpace(string(args)))
	})
}
