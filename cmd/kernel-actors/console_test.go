package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/console"
)

// A real serve answers its console's page at /ui with no token, streams
// snapshots at /v1/events with the token (the launched vat is in the
// first), and stops cleanly on SIGTERM with a stream open, ending the
// stream.
func TestServeConsole(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	d := serve(t, db)
	launched := launchCounter(t, dir, db)

	code, body := getNoToken(t, d.client.Base, "/ui/")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "kernel-actors console")
	code, _ = getNoToken(t, d.client.Base, "/v1/events")
	require.Equal(t, http.StatusUnauthorized, code)

	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, d.client.Base+"/v1/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+d.client.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	rd := bufio.NewReader(resp.Body)
	var frame console.Frame
	for {
		line, err := rd.ReadString('\n')
		require.NoError(t, err)
		if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			require.NoError(t, json.Unmarshal([]byte(data), &frame))
			break
		}
	}
	require.NotNil(t, frame.View)
	require.Len(t, frame.View.Vats, 1)
	require.Equal(t, launched.VatIDs["counter"], frame.View.Vats[0].ID)

	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, d.wait(t), d.output())
	for {
		if _, err := rd.ReadString('\n'); err != nil {
			break // the stream ended with the daemon
		}
	}
}
