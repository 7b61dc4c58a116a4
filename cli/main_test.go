package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/internal/demos/catalog"
	"github.com/ocapgo/kernel-actors/vat"
)

// runCLI runs the command in process over the binary's bundles, as
// cmd/kernel-actors does, with stderr not a terminal and no environment.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Program{Registry: catalog.Registry(), Stdout: &out, Stderr: &errOut}.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

// The default demo is the tour, and it tells its story.
func TestDemoNarratesTheTour(t *testing.T) {
	code, out, errOut := runCLI(t, "demo")
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{
		"== 2. A message round trip ==",
		"== 3. Promise pipelining ==",
		"deposit(50) answered alice's balance: 50",
		"[KERNEL:VAT_FATAL:INTERNAL_ERROR]",
		"bob's balance at the bank: 0 (deposit(1000) was never delivered)",
		"[KERNEL:OBJECT_REVOKED]",
		"The bank's balances: alice 50, bob 20, carol 0.",
	} {
		require.Contains(t, out, want)
	}
}

// Every bundled demo runs to the end from the binary.
func TestEveryDemoRuns(t *testing.T) {
	code, out, _ := runCLI(t, "demo", "--list")
	require.Equal(t, 0, code)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name := strings.Fields(line)[0]
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "demo", name)
			require.Equal(t, 0, code, errOut)
			require.NotEmpty(t, out)
		})
	}
}

func TestDemoOnAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tour.db")
	code, _, errOut := runCLI(t, "demo", "--db", path)
	require.Equal(t, 0, code, errOut)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	code, _, errOut = runCLI(t, "demo", "--db", path)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "give a new --db path")
}

// bundles lists every bundle with its summary, and its methods on the
// line below; --json gives the same as data.
func TestBundles(t *testing.T) {
	code, out, _ := runCLI(t, "bundles")
	require.Equal(t, 0, code)
	for _, b := range []string{"std/counter", "tour/alice", "bank/mint", "echo/bob"} {
		require.Regexp(t, "(?m)^"+b+" ", out)
	}
	require.Regexp(t, `(?m)^std/counter +a durable counter: its count survives restarts of the vat and of the kernel\n +methods: bootstrap\(vats, services\), incr\(\[by\]\), get\(\), record\(id\), seen\(\)\n`, out)

	code, out, _ = runCLI(t, "bundles", "--json")
	require.Equal(t, 0, code)
	var infos []bundleInfo
	require.NoError(t, json.Unmarshal([]byte(out), &infos))
	require.Len(t, infos, len(catalog.Registry().Names()))
	require.Contains(t, infos, bundleInfo{Name: "echo/bob", Summary: "answers echo(x) with x", Methods: []string{"echo(x)"}})
}

// A program's own bundles are listed as it registered them, with or
// without a description; one with none says so.
func TestBundlesOfAProgram(t *testing.T) {
	reg := vat.NewRegistry()
	build := func(vc *vat.Context) (any, error) { return vat.Far("x", vat.Methods{}), nil }
	reg.MustRegister("mine/greeter", build, vat.About{Summary: "greets", Methods: []string{"greet(who)"}})
	reg.MustRegister("mine/plain", build)
	var out, errOut bytes.Buffer
	code := Program{Name: "mybin", Registry: reg, Stdout: &out, Stderr: &errOut}.Run(context.Background(), []string{"bundles"})
	require.Equal(t, 0, code, errOut.String())
	require.Equal(t, "mine/greeter  greets\n              methods: greet(who)\nmine/plain    (no description registered)\n", out.String())

	out.Reset()
	code = Program{Name: "mybin", Stdout: &out, Stderr: &errOut}.Run(context.Background(), []string{"bundles"})
	require.Equal(t, 0, code)
	require.Empty(t, out.String())
	require.Equal(t, "mybin registers no vat bundles\n", errOut.String())
	out.Reset()
	code = Program{Stdout: &out}.Run(context.Background(), []string{"bundles", "--json"})
	require.Equal(t, 0, code)
	require.Equal(t, "[]\n", out.String())
}

// Bad usage exits 2 and names the problem; --help exits 0.
func TestCLIUsage(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
		wantOut  string
	}{
		{nil, 2, "Usage:", ""},
		{[]string{"help"}, 0, "", "Usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`, ""},
		{[]string{"demo", "--help"}, 0, "Usage: kernel-actors demo", ""},
		{[]string{"demo", "--bogus"}, 2, "-bogus", ""},
		{[]string{"demo", "tour", "extra"}, 2, `unexpected argument "extra"`, ""},
		{[]string{"demo", "nope"}, 2, `no demo "nope"`, ""},
		{[]string{"demo", "--db", "/no/such/dir/k.db"}, 1, "/no/such/dir", ""},
		{[]string{"run"}, 2, "--config is required", ""},
		{[]string{"run", "--config", "x.yaml", "--commit", "sometimes"}, 2, `--commit "sometimes"`, ""},
		{[]string{"run", "--config", "/no/such.yaml"}, 1, "/no/such.yaml", ""},
		{[]string{"run", "--config", "x.yaml", "--max-live-vats", "-1"}, 2, "--max-live-vats -1: must not be negative", ""},
		{[]string{"serve"}, 2, "--db is required", ""},
		{[]string{"serve", "--db", "k.db", "--max-live-vats", "-2"}, 2, "--max-live-vats -2: must not be negative", ""},
		{[]string{"serve", "--db", "k.db", "--listen", "nowhere"}, 2, `--listen "nowhere"`, ""},
		{[]string{"serve", "--db", "k.db", "--max-body", "0"}, 2, "--max-body 0", ""},
		{[]string{"serve", "--db", "k.db", "--max-conns", "0"}, 2, "--max-conns 0: must be above 0", ""},
		{[]string{"serve", "--db", "k.db", "--js-warm", "-1"}, 2, `--js-warm "-1": want auto or a count of workers (0 or more)`, ""},
		{[]string{"serve", "--db", "k.db", "--js-warm", "lots"}, 2, `--js-warm "lots": want auto`, ""},
		{[]string{"serve", "--db", "k.db", "--idle-timeout", "0s"}, 2, "--idle-timeout 0s: must be above 0", ""},
		{[]string{"serve", "--db", "k.db", "--read-timeout", "-1s"}, 2, "--read-timeout -1s: must be above 0", ""},
		{[]string{"serve", "--db", "k.db", "--request-timeout", "0s"}, 2, "--request-timeout 0s: must be above 0", ""},
		{[]string{"serve", "--db", "k.db", "--otlp", "127.0.0.1:4318"}, 2, `--otlp "127.0.0.1:4318": providers: bad OTLP endpoint`, ""},
		{[]string{"serve", "--db", "k.db", "--otlp", "http://127.0.0.1:4318/v1/traces"}, 2, "with no path", ""},
		{[]string{"launch", "--config", "/no/such.yaml", "--db", "k.db"}, 1, "/no/such.yaml", ""},
		{[]string{"send", "ko1"}, 2, "missing arguments", ""},
		{[]string{"send", "k1", "m", "--db", "k.db"}, 2, `TARGET "k1"`, ""},
		{[]string{"send", "ko1", "m"}, 2, "no token", ""},
		{[]string{"send", "ko1", "m", "--addr", "nohost"}, 2, `--addr "nohost"`, ""},
		{[]string{"send", "ko1", "m", "--db", "/no/such/k.db"}, 1, "is `kernel-actors serve --db /no/such/k.db` running?", ""},
		{[]string{"revoke", "x"}, 2, `KREF "x"`, ""},
		{[]string{"upgrade", "v1"}, 2, "missing arguments", ""},
		{[]string{"inspect"}, 2, "--db is required", ""},
		{[]string{"inspect", "--db", "/no/such/k.db"}, 1, "/no/such/k.db", ""},
		{[]string{"status", "--help"}, 0, "Usage: kernel-actors status", ""},
		{[]string{"inspect", "--help"}, 0, "Usage: kernel-actors inspect --db PATH [--json] | --live [--json] [client flags]\n", ""},
		{[]string{"version", "extra"}, 2, `unexpected argument "extra"`, ""},
		{[]string{"version"}, 0, "", "\ngo "},
		{[]string{"bundles", "extra"}, 2, `unexpected argument "extra"`, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			require.Equal(t, tt.wantCode, code, "stdout %q stderr %q", out, errOut)
			require.Contains(t, errOut, tt.wantErr)
			require.Contains(t, out, tt.wantOut)
		})
	}
}

// --config - reads the config from standard input, for run (and launch,
// which the binary's tests drive), and names it "stdin" in errors.
func TestRunConfigFromStdin(t *testing.T) {
	run := func(stdin string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Program{Registry: catalog.Registry(), Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut}.
			Run(context.Background(), []string{"run", "--config", "-"})
		return code, out.String(), errOut.String()
	}
	code, out, errOut := run("bootstrap: counter\nvats:\n  counter: {bundle: std/counter}\n")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `bootstrap result: "counter ready"`)
	require.Regexp(t, `quiescent: 1 crank in this run \(.*\), 1 in all; 1 vat active\n`, out, "one, not \"1 vats\"")

	code, _, errOut = run("bootstrap: counter\nvats:\n  counter: {bundle: std/nope}\n")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `kernel-actors run: stdin:3: vats.counter.bundle: vat: no bundle named "std/nope"`)
	code, _, errOut = run("")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "stdin: the file is empty")
}

// --max-live-vats caps the live vats of run: a pageable vat beyond the
// cap is paged out, and the run still completes.
func TestRunWithMaxLiveVats(t *testing.T) {
	var out, errOut bytes.Buffer
	cfg := "bootstrap: a\nvats:\n  a: {bundle: std/counter, pageable: true}\n  b: {bundle: std/counter, pageable: true}\n"
	code := Program{Registry: catalog.Registry(), Stdin: strings.NewReader(cfg), Stdout: &out, Stderr: &errOut}.
		Run(context.Background(), []string{"run", "--config", "-", "--max-live-vats", "1", "-v"})
	require.Equal(t, 0, code, errOut.String())
	require.Contains(t, out.String(), `bootstrap result: "counter ready"`)
	require.Contains(t, errOut.String(), "vat paged out", "b made room for a's bootstrap")
}

// Every command's help spells its flags as its synopsis does: --name
// (and -v), never -name.
func TestHelpSpellsFlagsWithTwoDashes(t *testing.T) {
	singleDash := regexp.MustCompile(`(?m)^  -[a-z][a-z-]+`)
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, c.name, "--help")
			require.Equal(t, 0, code)
			require.Contains(t, errOut, "Usage: kernel-actors "+c.name)
			require.NotRegexp(t, singleDash, errOut)
			if strings.Contains(errOut, "\nFlags:\n") {
				require.Regexp(t, `(?m)^  (--[a-z]|-v\t)`, errOut)
			}
		})
	}
	_, _, errOut := runCLI(t, "serve", "--help")
	require.Contains(t, errOut, "\n  --db string\n")
	require.Contains(t, errOut, "\n  -v\tlog requests")
}

// A send argument is JSON when it parses, a reference with @, else text.
func TestParseArg(t *testing.T) {
	require.Equal(t, map[string]any{"@kref": "ko5"}, parseArg("@ko5"))
	require.Equal(t, "@someone", parseArg("@someone"))
	require.Equal(t, "hello world", parseArg("hello world"))
	require.Equal(t, "42", parseArg(`"42"`))
	require.Equal(t, []any{"a", true}, parseArg(`["a", true]`))
	require.Equal(t, "1 2", parseArg("1 2"), "two JSON values are text")
	n, ok := parseArg("42").(interface{ String() string })
	require.True(t, ok)
	require.Equal(t, "42", n.String(), "numbers stay exact")
}

// The sample config in run's help runs as it stands: a user copies it
// first. (It once lacked the carol and bank the tour's bootstrap needs.)
func TestRunHelpSampleRuns(t *testing.T) {
	_, _, help := runCLI(t, "run", "--help")
	start := strings.Index(help, "  bootstrap: alice\n")
	require.GreaterOrEqual(t, start, 0, "run --help has its sample:\n%s", help)
	end := strings.Index(help[start:], "\n\n")
	require.Greater(t, end, 0)
	var sample strings.Builder
	for _, line := range strings.Split(help[start:start+end], "\n") {
		sample.WriteString(strings.TrimPrefix(line, "  ") + "\n")
	}
	var out, errOut bytes.Buffer
	code := Program{Registry: catalog.Registry(), Stdin: strings.NewReader(sample.String()), Stdout: &out, Stderr: &errOut}.
		Run(context.Background(), []string{"run", "--config", "-"})
	require.Equal(t, 0, code, "sample:\n%s\nstderr:\n%s", sample.String(), errOut.String())
	require.Contains(t, out.String(), "bootstrap result:")
}
