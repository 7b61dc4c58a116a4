package control_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

const token = "s3cret"

// registry: a counter that can also make objects, echo values, and fail.
func registry() *vat.Registry {
	reg := vat.NewRegistry()
	build := func(version string) vat.BuildFunc {
		return func(vc *vat.Context) (any, error) {
			get := func() int64 {
				v, _ := vc.Baggage.Get("count")
				n, _ := marshal.Int(v)
				return n
			}
			return vat.Far("counter", vat.Methods{
				"bootstrap": func(c *vat.Call) (any, error) { return "ready " + version, nil },
				"incr": func(c *vat.Call) (any, error) {
					by := int64(1)
					if len(c.Args) > 0 {
						by, _ = marshal.Int(c.Arg(0))
					}
					n := get() + by
					return n, vc.Baggage.Set("count", n)
				},
				"echo":    func(c *vat.Call) (any, error) { return c.Args, nil },
				"version": func(c *vat.Call) (any, error) { return version, nil },
				"make": func(c *vat.Call) (any, error) {
					return vat.Far("thing", vat.Methods{"hello": func(*vat.Call) (any, error) { return "hi", nil }}), nil
				},
			}), nil
		}
	}
	reg.MustRegister("counter", build("v1"))
	reg.MustRegister("counter-v2", build("v2"))
	return reg
}

type fixture struct {
	t   *testing.T
	ctx context.Context
	k   *actors.Kernel
	srv *httptest.Server
	c   *control.Client
}

func newFixture(t *testing.T) *fixture {
	ctx := context.Background()
	reg := registry()
	k, err := actors.Start(ctx, actors.Config{Registry: reg})
	require.NoError(t, err)
	srv := httptest.NewServer((&control.Server{Kernel: k, Token: token, Registry: reg, MaxBody: 4096}).Handler())
	t.Cleanup(func() {
		srv.Close()
		k.Stop(ctx)
	})
	return &fixture{t: t, ctx: ctx, k: k, srv: srv, c: &control.Client{Base: srv.URL, Token: token}}
}

func (f *fixture) launch() control.LaunchResponse {
	res, err := f.c.Launch(f.ctx, []byte("bootstrap: counter\nvats:\n  counter: {bundle: counter}\n"))
	require.NoError(f.t, err)
	return res
}

func apiErr(t *testing.T, err error) *control.APIError {
	t.Helper()
	var ae *control.APIError
	require.True(t, errors.As(err, &ae), "want an APIError, got %v", err)
	return ae
}

// The whole API end to end: launch, send with values of every kind and
// references both ways, status, vats, restart, upgrade, log, revoke,
// release, terminate, inspect.
func TestAPI(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	res := f.launch()
	require.Equal(t, "s1", res.SubclusterID)
	require.JSONEq(t, `"ready v1"`, string(res.BootstrapResult))

	v, err := f.c.Send(ctx, res.RootKref, "incr", []any{41})
	require.NoError(t, err)
	require.JSONEq(t, `41`, string(v))
	args := []any{1.5, "x", nil, true, map[string]any{"@bigint": "123456789012345678901234567890"},
		map[string]any{"@float": "NaN"}, map[string]any{"@undefined": true}, map[string]any{"@kref": res.RootKref},
		map[string]any{"nested": []any{map[string]any{"@symbol": "sym"}}}}
	v, err = f.c.Send(ctx, res.RootKref, "echo", args)
	require.NoError(t, err)
	want, _ := json.Marshal(args)
	require.JSONEq(t, string(want), string(v), "values survive the round trip")

	v, err = f.c.Send(ctx, res.RootKref, "make", nil)
	require.NoError(t, err)
	var thing map[string]string
	require.NoError(t, json.Unmarshal(v, &thing))
	require.NotEmpty(t, thing["@kref"])
	v, err = f.c.Send(ctx, thing["@kref"], "hello", nil)
	require.NoError(t, err)
	require.JSONEq(t, `"hi"`, string(v))

	st, err := f.c.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st.Vats, 1)
	require.Equal(t, "counter", st.Vats[0].Bundle)
	vats, err := f.c.Vats(ctx)
	require.NoError(t, err)
	id := vats[0].ID

	inc, err := f.c.RestartVat(ctx, id)
	require.NoError(t, err)
	require.Equal(t, int64(1), inc)
	inc, err = f.c.UpgradeVat(ctx, id, "counter-v2")
	require.NoError(t, err)
	require.Equal(t, int64(2), inc)
	v, err = f.c.Send(ctx, res.RootKref, "version", nil)
	require.NoError(t, err)
	require.JSONEq(t, `"v2"`, string(v))
	v, err = f.c.Send(ctx, res.RootKref, "incr", nil)
	require.NoError(t, err)
	require.JSONEq(t, `42`, string(v), "durable state kept across restart and upgrade")
	inc, err = f.c.PingVat(ctx, id)
	require.NoError(t, err)
	require.Equal(t, int64(2), inc)
	log, err := f.c.VatLog(ctx, id)
	require.NoError(t, err)
	require.NotEmpty(t, log)

	rep, err := f.c.Inspect(ctx)
	require.NoError(t, err)
	require.True(t, rep.Audit.OK, "%v", rep.Audit.Problems)
	require.Len(t, rep.Vats, 1)

	require.NoError(t, f.c.Release(ctx, thing["@kref"]))
	require.NoError(t, f.c.Revoke(ctx, res.RootKref))
	_, err = f.c.Send(ctx, res.RootKref, "incr", nil)
	e := apiErr(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, e.Status)
	require.Equal(t, "OBJECT_REVOKED", e.Code)

	_, err = f.c.UpgradeVat(ctx, id, "no-such-bundle")
	e = apiErr(t, err)
	require.Equal(t, http.StatusBadRequest, e.Status)
	require.Contains(t, e.Message, `"no-such-bundle"`)

	// The code of a Go vat, in the listing; a JavaScript upgrade of it is
	// the kernel's to refuse, and a body with both kinds of code or
	// neither is refused before the kernel is asked.
	require.Equal(t, "counter-v2", vatsNow(t, f)[0].Code)
	_, err = f.c.UpgradeJSVat(ctx, id, "/no/such/vat.js", nil)
	e = apiErr(t, err)
	require.Equal(t, http.StatusBadRequest, e.Status)
	require.Contains(t, e.Message, "is a Go vat")
	for body, want := range map[string]string{
		`{}`: "bundle (a Go vat's) or bundleSpec (a JavaScript vat's) is required",
		`{"bundle": "counter", "bundleSpec": "/v.js"}`: "bundle and bundleSpec are both given",
		`{"bundle": "counter", "globals": ["fetch"]}`:  "globals go with a bundleSpec",
	} {
		req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/vats/"+id+"/upgrade", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
		require.Contains(t, string(msg), want, body)
	}
	require.Equal(t, int64(2), vatsNow(t, f)[0].Incarnation, "a refused upgrade leaves the vat as it was")

	require.NoError(t, f.c.TerminateVat(ctx, id, "test"))
	st, err = f.c.Status(ctx)
	require.NoError(t, err)
	require.False(t, st.Vats[0].Active)
	_, err = f.c.RestartVat(ctx, id)
	require.Equal(t, http.StatusConflict, apiErr(t, err).Status)
	_, err = f.c.PingVat(ctx, id)
	e = apiErr(t, err)
	require.Equal(t, http.StatusConflict, e.Status)
	require.Equal(t, "VAT_NOT_RUNNING", e.Code)

	require.NoError(t, f.c.TerminateSubcluster(ctx, res.SubclusterID))
	st, err = f.c.Status(ctx)
	require.NoError(t, err)
	require.Empty(t, st.Subclusters)
	e = apiErr(t, f.c.TerminateSubcluster(ctx, "s9"))
	require.Equal(t, http.StatusNotFound, e.Status)
}

// Bad requests get a 4xx with a JSON error that names the problem.
func TestAPIRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	res := f.launch()

	raw := func(method, path, auth, body string) (int, control.APIError) {
		req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var eb control.ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&eb)
		return resp.StatusCode, eb.Error
	}
	code, e := raw("GET", "/v1/status", "", "")
	require.Equal(t, http.StatusUnauthorized, code)
	require.Contains(t, e.Message, "missing bearer token")
	code, e = raw("GET", "/v1/status", "Bearer nope", "")
	require.Equal(t, http.StatusUnauthorized, code)
	require.Contains(t, e.Message, "wrong bearer token")
	code, _ = raw("POST", "/v1/send", "Bearer nope", strings.Repeat("x", 10000))
	require.Equal(t, http.StatusUnauthorized, code, "the token is checked before the body is read")

	auth := "Bearer " + token
	code, e = raw("POST", "/v1/send", auth, `{"target": "`+strings.Repeat("x", 5000)+`"}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, code)
	require.Equal(t, "TOO_LARGE", e.Code)
	code, e = raw("POST", "/v1/send", auth, `{"target": `)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, e.Message, "body:")
	code, e = raw("POST", "/v1/send", auth, `{"target": "ko1", "method": "x", "extra": 1}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, e.Message, `unknown field "extra"`)
	code, _ = raw("GET", "/v1/send", auth, "")
	require.Equal(t, http.StatusMethodNotAllowed, code)
	code, _ = raw("GET", "/v1/nothing", auth, "")
	require.Equal(t, http.StatusNotFound, code)

	_, err := f.c.Send(ctx, "not-a-kref", "incr", nil)
	e2 := apiErr(t, err)
	require.Equal(t, http.StatusBadRequest, e2.Status)
	require.Contains(t, e2.Message, "target")
	_, err = f.c.Send(ctx, "ko999", "incr", nil)
	require.Equal(t, http.StatusNotFound, apiErr(t, err).Status)
	_, err = f.c.Send(ctx, res.RootKref, "fly", nil)
	e2 = apiErr(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, e2.Status)
	require.Equal(t, "TypeError", e2.Code)
	require.Contains(t, e2.Message, `"fly"`)
	_, err = f.c.Send(ctx, res.RootKref, "incr", []any{map[string]any{"@kref": "bogus"}})
	require.Equal(t, http.StatusBadRequest, apiErr(t, err).Status)
	_, err = f.c.Send(ctx, res.RootKref, "incr", []any{map[string]any{"@what": 1}})
	require.Contains(t, apiErr(t, err).Message, "unknown tagged form @what")

	// Arguments JSON can say and the kernel cannot pass are the request's
	// fault: 400, naming the problem (they were 500s).
	_, err = f.c.Send(ctx, res.RootKref, "echo", []any{json.Number("9007199254740993")})
	e2 = apiErr(t, err)
	require.Equal(t, http.StatusBadRequest, e2.Status)
	require.Equal(t, "BAD_REQUEST", e2.Code)
	require.Contains(t, e2.Message, `args[0]: 9007199254740993 is beyond ±2^53, where numbers lose precision; send {"@bigint": "9007199254740993"}`)
	var deep any = "bottom"
	for range marshal.DefaultMaxDepth + 1 {
		deep = []any{deep}
	}
	_, err = f.c.Send(ctx, res.RootKref, "echo", []any{deep})
	e2 = apiErr(t, err)
	require.Equal(t, http.StatusBadRequest, e2.Status)
	require.Contains(t, e2.Message, "nesting deeper than 64")

	// An unknown vat's log is a 404, not an empty log.
	_, err = f.c.VatLog(ctx, "v99")
	e2 = apiErr(t, err)
	require.Equal(t, http.StatusNotFound, e2.Status)
	require.Contains(t, e2.Message, `vat "v99": kernel: unknown vat`)

	_, err = f.c.Launch(ctx, []byte("bootstrap: a\nvats:\n  a:\n    bundle: nope\n"))
	e2 = apiErr(t, err)
	require.Equal(t, http.StatusBadRequest, e2.Status)
	require.Contains(t, e2.Message, `line 4: vats.a.bundle:`)
	require.Contains(t, e2.Message, `"nope"`)
	_, err = f.c.Launch(ctx, []byte(`{"bootstrap": "a", "vats": {"a": {"bundle": "counter", "failurePolicy": "sometimes"}}}`))
	require.Contains(t, apiErr(t, err).Message, `vats.a.failurePolicy: "sometimes" is not one of`)
	_, err = f.c.RestartVat(ctx, "v99")
	require.Equal(t, http.StatusNotFound, apiErr(t, err).Status)
	e2 = apiErr(t, f.c.Revoke(ctx, "kp1"))
	require.Equal(t, http.StatusBadRequest, e2.Status)
	require.Equal(t, "BAD_REQUEST", e2.Code)
}

// The alias bombs through launch: each is a 400 at its line (expanded,
// they ran the daemon out of memory), and the kernel serves on.
func TestLaunchRefusesAliasBombs(t *testing.T) {
	f := newFixture(t)
	for file, want := range map[string]string{
		"self-alias.yaml":     "line 5: vats.a.parameters.x: YAML aliases are not accepted (*p)",
		"billion-laughs.yaml": "line 8: vats.a.parameters.lol2[0]: YAML aliases are not accepted (*a)",
	} {
		body, err := os.ReadFile(filepath.Join("..", "clusterfile", "testdata", file))
		require.NoError(t, err)
		_, err = f.c.Launch(f.ctx, body)
		e := apiErr(t, err)
		require.Equal(t, http.StatusBadRequest, e.Status, file)
		require.Equal(t, "BAD_REQUEST", e.Code, file)
		require.Contains(t, e.Message, want, file)
	}
	res := f.launch()
	v, err := f.c.Send(f.ctx, res.RootKref, "incr", nil)
	require.NoError(t, err)
	require.JSONEq(t, `1`, string(v))
}

// vatsNow lists the fixture's vats.
func vatsNow(t *testing.T, f *fixture) []control.Vat {
	t.Helper()
	vats, err := f.c.Vats(f.ctx)
	require.NoError(t, err)
	return vats
}

// Status and the vats list say which vats are paged out (docs/paging.md).
func TestStatusShowsPagedOutVats(t *testing.T) {
	ctx := context.Background()
	reg := registry()
	k, err := actors.Start(ctx, actors.Config{Registry: reg, MaxLiveVats: 1})
	require.NoError(t, err)
	srv := httptest.NewServer((&control.Server{Kernel: k, Token: token, Registry: reg, MaxBody: 4096}).Handler())
	t.Cleanup(func() {
		srv.Close()
		k.Stop(ctx)
	})
	c := &control.Client{Base: srv.URL, Token: token}
	res, err := c.Launch(ctx, []byte("bootstrap: a\nvats:\n  a: {bundle: counter, pageable: true}\n  b: {bundle: counter, pageable: true}\n"))
	require.NoError(t, err)
	st, err := c.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, st.LiveVats)
	paged := map[string]bool{}
	for _, v := range st.Vats {
		require.True(t, v.Pageable)
		paged[v.ID] = v.PagedOut
	}
	require.Equal(t, map[string]bool{res.VatIDs["a"]: false, res.VatIDs["b"]: true}, paged, "a got bootstrap last")

	rep, err := c.Inspect(ctx)
	require.NoError(t, err)
	states := map[string]string{}
	for _, v := range rep.Vats {
		states[v.ID] = v.State
	}
	require.Equal(t, map[string]string{res.VatIDs["a"]: "active", res.VatIDs["b"]: "paged-out"}, states, "inspect --live")
}
