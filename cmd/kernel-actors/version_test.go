package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// version prints what the toolchain recorded in the binary: the same
// module, version, Go version and VCS stamp as `go version -m` reads from
// the file.
func TestVersionIsTheBuildInfo(t *testing.T) {
	bin := binary(t)
	code, out, errOut := cli(t, "version", "--json")
	require.Equal(t, 0, code, errOut)
	var got struct {
		Module, Version, Go, Platform, Revision string
		Modified                                bool
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))

	mb, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	require.NoError(t, err, "%s", mb)
	want := map[string]string{}
	for _, line := range strings.Split(string(mb), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && strings.HasSuffix(f[0], ":"):
			want["go"] = f[1]
		case len(f) >= 3 && f[0] == "mod":
			want["module"], want["version"] = f[1], f[2]
		case len(f) >= 2 && f[0] == "build":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				want[k] = v
			}
		}
	}
	require.Equal(t, "github.com/ocapgo/kernel-actors", want["module"])
	require.Equal(t, want["module"], got.Module)
	require.Equal(t, want["version"], got.Version)
	require.Equal(t, want["go"], got.Go)
	require.Equal(t, want["GOOS"]+"/"+want["GOARCH"], got.Platform)
	require.Equal(t, want["vcs.revision"], got.Revision)
	require.Equal(t, want["vcs.modified"] == "true", got.Modified)

	code, text, _ := cli(t, "version")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(text, "kernel-actors "+got.Version+"\n"), text)
}
