package main

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"

	kacli "github.com/ocapgo/kernel-actors/cli"
	"github.com/ocapgo/kernel-actors/control"
	"github.com/ocapgo/kernel-actors/internal/demos/catalog"
)

// The binary's interfaces under abuse: hostile config files, a database
// that fails the audit, planted symbolic links, and a kernel that stops
// itself under a running daemon.

// memoryCap bounds, in KiB of address space, a child that reads a hostile
// file: should the refusal regress, the child dies of it rather than the
// machine's memory running out under every test.
const memoryCap = 4 << 20 // 4 GiB

// bombs are the alias attack files, with the line and field each is
// refused at.
var bombs = []struct{ file, want string }{
	{"self-alias.yaml", ":5: vats.a.parameters.x: YAML aliases are not accepted (*p)"},
	{"billion-laughs.yaml", ":8: vats.a.parameters.lol2[0]: YAML aliases are not accepted (*a)"},
}

func bombPath(t *testing.T, file string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "clusterfile", "testdata", file))
	require.NoError(t, err)
	return path
}

// cliCapped runs the binary like cli, under memoryCap.
func cliCapped(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command("/bin/sh", append([]string{"-c", `ulimit -v ` + strconv.Itoa(memoryCap) + ` && exec "$0" "$@"`, binary(t)}, args...)...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errOut.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errOut.String()
}

// `run --config` on either alias bomb fails at once, naming file, line
// and field (it ran out of memory).
func TestRunRefusesAliasBombs(t *testing.T) {
	for _, b := range bombs {
		t.Run(b.file, func(t *testing.T) {
			path := bombPath(t, b.file)
			code, out, errOut := cliCapped(t, "run", "--config", path)
			require.Equal(t, 1, code, "stdout %q stderr %q", out, errOut)
			require.Equal(t, "kernel-actors run: "+path+b.want+": write the value out\n", errOut)
		})
	}
}

// Either bomb sent to a running serve's launch endpoint is refused (400,
// at the line), and the daemon serves on (expanded, they killed it); the
// launch command refuses it before sending, at file and line.
func TestLaunchAliasBombsLeaveServeRunning(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	d := serve(t, db)
	ctx := context.Background()
	for _, b := range bombs {
		path := bombPath(t, b.file)
		body, err := os.ReadFile(path)
		require.NoError(t, err)
		_, err = d.client.Launch(ctx, body)
		e, ok := err.(*control.APIError)
		require.True(t, ok, "%v", err)
		require.Equal(t, 400, e.Status)
		require.Equal(t, "BAD_REQUEST", e.Code)
		require.Contains(t, e.Message, "line "+strings.TrimPrefix(b.want, ":"))

		code, _, errOut := cli(t, "launch", "--db", db, "--config", path)
		require.Equal(t, 1, code, errOut)
		require.Equal(t, "kernel-actors launch: "+path+b.want+": write the value out\n", errOut)
	}
	st, err := d.client.Status(ctx)
	require.NoError(t, err)
	require.Empty(t, st.Subclusters, "nothing launched")
	_, err = d.client.Launch(ctx, []byte(counterConfig))
	require.NoError(t, err, "the daemon serves on")
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, d.wait(t), d.output())
}

// tamper runs SQL on a kernel's database, as a person with sqlite3 might.
func tamper(t *testing.T, db string, stmts ...string) {
	t.Helper()
	conn, err := sql.Open("sqlite3", db)
	require.NoError(t, err)
	defer conn.Close()
	for _, s := range stmts {
		_, err := conn.Exec(s)
		require.NoError(t, err, s)
	}
}

// serve and run refuse a database that fails the audit, naming the first
// problems and the way out, and change nothing; --skip-audit starts
// anyway.
func TestServeAndRunRefuseAFailedAudit(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	cfg := writeFile(t, dir, "c.yaml", counterConfig)
	code, _, errOut := cli(t, "run", "--config", cfg, "--db", db)
	require.Equal(t, 0, code, errOut)
	// The counter's root, pinned for the host: counts five too high.
	tamper(t, db, `UPDATE objects SET reachable = reachable + 5, recognizable = recognizable + 5 WHERE kref = 'ko1'`)
	before, err := os.ReadFile(db)
	require.NoError(t, err)

	wantRefusal := func(errOut string) {
		t.Helper()
		require.Contains(t, errOut, db+" fails the audit: ")
		require.Contains(t, errOut, "ko1")
		require.Contains(t, errOut, `"kernel-actors inspect --db `+db+`" shows them all; --skip-audit starts anyway.`)
	}
	code, out, errOut := cli(t, "run", "--config", cfg, "--db", db)
	require.Equal(t, 1, code, out)
	wantRefusal(errOut)
	require.NotContains(t, out, "resumed")

	d := startServe(t, db)
	require.Equal(t, 1, d.wait(t))
	wantRefusal(d.output())
	require.NotContains(t, d.output(), servingLine)
	_, err = os.Stat(control.AddrPath(db))
	require.ErrorIs(t, err, os.ErrNotExist, "it never listened")

	after, err := os.ReadFile(db)
	require.NoError(t, err)
	require.Equal(t, before, after, "the refused file is unchanged")

	code, out, errOut = cli(t, "run", "--config", cfg, "--db", db, "--skip-audit")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "resumed")
	d = serve(t, db, "--skip-audit")
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, d.wait(t), d.output())

	code, _, errOut = cli(t, "serve", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, "-skip-audit")
	code, _, errOut = cli(t, "run", "--help")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, "-skip-audit")
}

// serve refuses to write PATH.token or PATH.addr through a symbolic link
// planted there, says so, and leaves the link's target alone.
func TestServeRefusesSymlinkedFiles(t *testing.T) {
	for _, which := range []string{"token", "addr"} {
		t.Run(which, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "k.db")
			target := writeFile(t, dir, "precious", "keep me\n")
			link := db + "." + which
			require.NoError(t, os.Symlink(target, link))
			d := startServe(t, db)
			require.Equal(t, 1, d.wait(t))
			require.Contains(t, d.output(), "kernel-actors serve: control: write "+link+": is a symbolic link; refusing to write through it")
			b, err := os.ReadFile(target)
			require.NoError(t, err)
			require.Equal(t, "keep me\n", string(b))
		})
	}
}

// When its kernel stops itself (here its store fails: another program
// holds the database's write lock past the busy timeout), serve exits 1
// and says why on stderr, instead of answering 503 forever; a new serve
// resumes the file.
func TestServeExitsWhenItsKernelStops(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.db")
	d := serve(t, db)
	ctx := context.Background()
	res, err := d.client.Launch(ctx, []byte(counterConfig))
	require.NoError(t, err)
	_, err = d.client.Send(ctx, res.RootKref, "incr", []any{2})
	require.NoError(t, err)

	other, err := sql.Open("sqlite3", db)
	require.NoError(t, err)
	defer other.Close()
	lock, err := other.Conn(ctx)
	require.NoError(t, err)
	_, err = lock.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)

	_, err = d.client.Send(ctx, res.RootKref, "incr", []any{3})
	e, ok := err.(*control.APIError)
	require.True(t, ok, "%v", err)
	require.Equal(t, 503, e.Status, "the store failed: unavailable, not a 500")
	require.Equal(t, 1, d.wait(t), d.output())
	out := d.output()
	require.Contains(t, out, "kernel-actors serve: the kernel stopped itself: ")
	require.Contains(t, out, "database is locked")
	require.Contains(t, out, "a new serve resumes it")

	_, err = lock.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
	require.NoError(t, lock.Close())
	d = serve(t, db)
	v, err := d.client.Send(ctx, res.RootKref, "get", nil)
	require.NoError(t, err)
	require.Equal(t, "2", strings.TrimSpace(string(v)), "the failed send left nothing")
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, 0, d.wait(t), d.output())
}

// runCLI runs the command line in this process, as main does, with
// stderr not a terminal and no environment.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = kacli.Program{Registry: catalog.Registry(), Stdout: &out, Stderr: &errOut}.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

// inspect on a database tampered with by raw SQL reports what is wrong
// and exits 1, in text and in JSON, and never panics (a panic would end
// this test binary): bad JSON in a config, a negative count, a reference
// to no vat, missing rows, a value of the wrong type, a ref that does not
// parse, a queued message that is not one.
func TestInspectTamperedDatabase(t *testing.T) {
	src := filepath.Join(t.TempDir(), "tour.db")
	code, _, errOut := runCLI(t, "demo", "--db", src)
	require.Equal(t, 0, code, errOut)
	pristine, err := os.ReadFile(src)
	require.NoError(t, err)

	tests := []struct {
		name, sql string
		want      string // in stdout or stderr
	}{
		{"config not JSON", `UPDATE vats SET config = 'garbage{{' WHERE vat_id = 'v1'`, "vat v1: its config does not read as a vat config"},
		{"negative count", `UPDATE objects SET reachable = -4, recognizable = -1 WHERE kref = 'ko2'`, "ko2"},
		{"owner of no vat", `UPDATE objects SET owner = 'v99' WHERE kref = 'ko1'`, "ko1"},
		{"rows missing", `DELETE FROM objects`, "problem(s)"},
		{"wrong type", `UPDATE vats SET incarnation = 'many'`, "vats"},
		{"kref unparsable", `UPDATE objects SET kref = 'ko' WHERE kref = 'ko4'`, "problem(s)"},
		{"message not CapData", `INSERT INTO run_queue (seq, kind, target, body, slots) VALUES (99, 'send', 'ko1', 'garbage{{', '[]')`, "run queue item 1 (to ko1): its message is not [method, args] CapData"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "k.db")
			require.NoError(t, os.WriteFile(db, pristine, 0o600))
			tamper(t, db, "PRAGMA ignore_check_constraints = ON; "+tt.sql)
			for _, args := range [][]string{{"inspect", "--db", db}, {"inspect", "--db", db, "--json"}} {
				code, out, errOut := runCLI(t, args...)
				require.Equal(t, 1, code, "%v: stdout %q stderr %q", args, out, errOut)
				require.Contains(t, out+errOut, tt.want, args)
				require.Contains(t, errOut, "kernel-actors inspect: ")
			}
		})
	}
}
