package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/control"
)

// getNoToken fetches base+path with no Authorization header.
func getNoToken(t *testing.T, base, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// A real serve answers /healthz, /readyz and /metrics over loopback with
// no token, and /metrics counts the sends a client made through it.
func TestServeOpsEndpoints(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	d := serve(t, db)
	cfg := writeFile(t, dir, "c.yaml", counterConfig)
	code, out, errOut := cli(t, "launch", "--db", db, "--config", cfg)
	require.Equal(t, 0, code, errOut)
	var launched control.LaunchResponse
	require.NoError(t, json.Unmarshal([]byte(out), &launched))
	for i := 0; i < 3; i++ {
		code, _, errOut = cli(t, "send", "--db", db, launched.RootKref, "incr")
		require.Equal(t, 0, code, errOut)
	}

	code, body := getNoToken(t, d.client.Base, "/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)
	code, body = getNoToken(t, d.client.Base, "/readyz")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"ready":true}`, body)
	code, body = getNoToken(t, d.client.Base, "/metrics")
	require.Equal(t, http.StatusOK, code)
	var sends string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "kernel_host_requests_total{") && strings.Contains(line, `kind="queue_message"`) && strings.Contains(line, `outcome="ok"`) {
			sends = line[strings.LastIndexByte(line, ' ')+1:]
		}
	}
	require.Equal(t, "3", sends, "three sends through the API:\n%s", body)
	code, _ = getNoToken(t, d.client.Base, "/v1/status")
	require.Equal(t, http.StatusUnauthorized, code)
}
