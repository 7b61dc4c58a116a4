package cli

import (
	"bytes"
	"encoding/json"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// version reports the build info as recorded: the main module, the
// kernel-actors module inside a program built on it (with its
// replacement), the toolchain, and the VCS stamp when there is one.
func TestVersionOf(t *testing.T) {
	settings := []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"},
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name     string
		bi       debug.BuildInfo
		wantText string
		want     versionInfo
	}{
		{
			name: "the binary from a checkout",
			bi:   debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: kernelModule, Version: "(devel)"}, Settings: settings},
			wantText: "kernel-actors (devel)\n" +
				"module    github.com/ocapgo/kernel-actors (devel)\n" +
				"go        go1.26.0 linux/amd64\n" +
				"revision  0123abcd 2026-01-02T03:04:05Z (modified)\n",
			want: versionInfo{Program: "kernel-actors", Module: kernelModule, Version: "(devel)", Kernel: "(devel)", Go: "go1.26.0",
				Platform: "linux/amd64", Revision: "0123abcd", Time: "2026-01-02T03:04:05Z", Modified: true},
		},
		{
			name: "a program on a replaced kernel-actors",
			bi: debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "example.com/mine", Version: "v1.2.3"},
				Deps: []*debug.Module{{Path: "github.com/rs/zerolog", Version: "v1.35.1"},
					{Path: kernelModule, Version: "v0.0.0", Replace: &debug.Module{Path: "/src/kernel-actors", Version: "(devel)"}}}},
			wantText: "kernel-actors v1.2.3\n" +
				"module         example.com/mine v1.2.3\n" +
				"kernel-actors  v0.0.0 => /src/kernel-actors\n" +
				"go             go1.26.0\n",
			want: versionInfo{Program: "kernel-actors", Module: "example.com/mine", Version: "v1.2.3", Kernel: "v0.0.0 => /src/kernel-actors", Go: "go1.26.0"},
		},
		{
			name: "a program on a fork",
			bi: debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "example.com/mine", Version: "(devel)"},
				Deps: []*debug.Module{{Path: kernelModule, Version: "v0.3.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v0.3.1"}}}},
			wantText: "kernel-actors (devel)\n" +
				"module         example.com/mine (devel)\n" +
				"kernel-actors  v0.3.0 => example.com/fork v0.3.1\n" +
				"go             go1.26.0\n",
			want: versionInfo{Program: "kernel-actors", Module: "example.com/mine", Version: "(devel)", Kernel: "v0.3.0 => example.com/fork v0.3.1", Go: "go1.26.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := versionOf(DefaultName, &tt.bi)
			require.Equal(t, tt.want, v)
			var out bytes.Buffer
			require.NoError(t, printVersion(&env{stdout: &out}, v, false))
			require.Equal(t, tt.wantText, out.String())
			out.Reset()
			require.NoError(t, printVersion(&env{stdout: &out}, v, true))
			var back versionInfo
			require.NoError(t, json.Unmarshal(out.Bytes(), &back))
			require.Equal(t, v, back)
		})
	}
}
