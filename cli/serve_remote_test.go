package cli

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/kernel"
)

// serve's remote flags: each bad value is a usage error (exit 2) that
// names its flag, found before anything starts (no database is made).
func TestServeRemoteFlagsRefused(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--remote-give-up", "5s"}, "--remote-give-up needs --remote-listen"},
		{[]string{"--remote-insecure-loopback"}, "--remote-insecure-loopback needs --remote-listen"},
		{[]string{"--remote-key", "k.key"}, "--remote-key needs --remote-listen"},
		{[]string{"--remote-listen", "nowhere"}, `--remote-listen "nowhere": want HOST:PORT`},
		{[]string{"--remote-listen", "127.0.0.1:99999"}, `--remote-listen "127.0.0.1:99999": port "99999"`},
		{[]string{"--remote-listen", ":7000"}, `--remote-listen ":7000": want a host to listen on`},
		{[]string{"--remote-listen", "0.0.0.0:7000"}, "--remote-listen 0.0.0.0:7000 listens on every interface: give --remote-advertise"},
		{[]string{"--remote-listen", "0.0.0.0:7000", "--remote-advertise", "kernel.example"}, `--remote-advertise "kernel.example": want HOST:PORT`},
		{[]string{"--remote-advertise", "kernel.example:7000"}, "--remote-advertise needs --remote-listen"},
		{[]string{"--remote-listen", "10.1.2.3:0", "--remote-insecure-loopback"}, "--remote-insecure-loopback with --remote-listen 10.1.2.3:0: plaintext is allowed only on a loopback address"},
		{[]string{"--remote-listen", "127.0.0.1:0", "--remote-give-up", "-1s"}, "--remote-give-up -1s: must not be negative"},
		{[]string{"--remote-listen", "127.0.0.1:0", "--remote-resend", "0s"}, "--remote-resend 0s: must be above 0"},
		{[]string{"--remote-listen", "127.0.0.1:0", "--remote-key", ""}, "--remote-key: empty"},
		{[]string{"--remote-listen", "127.0.0.1:0", "--remote-give-up", "soon"}, "remote-give-up"},
		{[]string{"--remote-max-introduced", "3"}, "--remote-max-introduced needs --remote-listen"},
		{[]string{"--remote-listen", "127.0.0.1:0", "--remote-max-introduced", "-1"}, "--remote-max-introduced -1: must not be negative"},
	} {
		code, _, errOut := runCLI(t, append([]string{"serve", "--db", db}, c.args...)...)
		require.Equal(t, 2, code, "%v: %s", c.args, errOut)
		require.Contains(t, errOut, c.want, "%v", c.args)
	}
	require.NoFileExists(t, db, "refused before the kernel opened the file")
}

// The remotes client refuses a bad verb or argument count, and a bad
// kref to export, before it dials.
func TestRemotesUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"remotes", "frobnicate"}, `remotes "frobnicate": want list, add, export, import or give-up`},
		{[]string{"remotes", "add", "abc"}, "remotes add: want 2 argument(s), got 1"},
		{[]string{"remotes", "give-up"}, "remotes give-up: want 1 argument(s), got 0"},
		{[]string{"remotes", "export", "r1", "nonsense"}, `KREF "nonsense"`},
		{[]string{"url", "issue", "nonsense"}, `KREF "nonsense"`},
		{[]string{"url", "mint", "ko1"}, `url "mint": want issue, revoke or redeem`},
	} {
		code, _, errOut := runCLI(t, append(c.args, "--addr", "127.0.0.1:1", "--token-file", "/nonexistent")...)
		require.Equal(t, 2, code, "%v: %s", c.args, errOut)
		require.Contains(t, errOut, c.want, "%v", c.args)
	}
}

// --remote-max-introduced sets RemoteConfig.MaxIntroduced: the default
// is the kernel's, a number is that number, and 0 is none (the config's
// negative: its own zero means the default).
func TestServeRemoteMaxIntroduced(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
	}{
		{nil, kernel.DefaultMaxIntroduced},
		{[]string{"--remote-max-introduced", "5"}, 5},
		{[]string{"--remote-max-introduced", "0"}, -1},
	} {
		var f remoteFlags
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		f.register(fs)
		require.NoError(t, fs.Parse(append([]string{"--remote-listen", "127.0.0.1:0"}, c.args...)))
		rc, err := f.config(fs)
		require.NoError(t, err)
		require.Equal(t, c.want, rc.MaxIntroduced, "%v", c.args)
	}
}
