package jsvats_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNoNodeRefusesAndStoresNothing: with --node naming no binary, run on
// the JavaScript cluster exits 1 with jsvat's error (what to install) and
// the flag that sets the binary, and the database it was given holds no
// subcluster, no vat and no crank. It needs no Node.js, so it runs
// without the jsvat tag, as on a machine with only Go and gcc.
func TestNoNodeRefusesAndStoresNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	code, stdout, stderr := cli(t, dir, nil, "run", "--config", config(t, "cluster.yaml"), "--db", db, "--node", "/nonexistent")
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	require.Contains(t, stderr, "jsvat: Node.js is not available")
	require.Contains(t, stderr, `"/nonexistent" not found`)
	require.Contains(t, stderr, "install it")
	require.Contains(t, stderr, "--node PATH")
	require.NotContains(t, stdout, "bootstrap result")

	code, out, errOut := cli(t, dir, nil, "inspect", "--db", db, "--json")
	require.Equal(t, 0, code, errOut)
	var got struct {
		Cranks      uint64
		Subclusters []json.RawMessage
		Vats        []json.RawMessage
		Objects     []json.RawMessage
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Zero(t, got.Cranks)
	require.Empty(t, got.Subclusters)
	require.Empty(t, got.Vats)
	require.Empty(t, got.Objects)
}

// TestGoOnlyNeedsNoNode: a Go-only cluster runs with --node naming no
// binary, so the runtime the command builds never asks for Node unless a
// JavaScript vat does.
func TestGoOnlyNeedsNoNode(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "go.yaml")
	writeFile(t, cfg, "bootstrap: counter\nvats:\n  counter: {bundle: std/counter}\n")
	code, stdout, stderr := cli(t, dir, nil, "run", "--config", cfg, "--node", "/nonexistent", "--js-worker", "/nonexistent")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, `bootstrap result: "counter ready"`)
}
