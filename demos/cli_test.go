package demos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/demos"
)

// mainOf runs Main for fakeDemo on args, with more, and returns what it
// returned and wrote.
func mainOf(args []string, more ...demos.Flags) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = demos.Main(context.Background(), fakeDemo(true), args, &out, &errOut, more...)
	return code, out.String(), errOut.String()
}

func TestMainCommandLine(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    string // "" for no output at all
		wantInErr  []string
		wantNoErrs bool // stderr is empty
	}{
		{name: "in memory", wantOut: "ran on \"\"\n", wantNoErrs: true},
		{name: "on a file", args: []string{"--db", "x.db"}, wantOut: "ran on \"x.db\"\n", wantNoErrs: true},
		{name: "readable logs", args: []string{"-v"}, wantOut: "ran on \"\"\n", wantInErr: []string{"DBG a debug line"}},
		{name: "help", args: []string{"--help"}, wantInErr: []string{
			"Usage: fake [--db PATH] [-v | --log]\n\nA demo for tests.\n\nFlags:\n",
			"  --db file\n    \tkeep the kernel's state in this SQLite file, which must be new",
			"\n  --log\n", "\n  -v\twrite", // as the usage line spells them
		}},
		{name: "unknown flag", args: []string{"--nope"}, wantCode: demos.ExitUsage, wantInErr: []string{
			"flag provided but not defined: -nope", "Usage: fake",
		}},
		{name: "stray argument", args: []string{"extra"}, wantCode: demos.ExitUsage, wantInErr: []string{
			"fake: unexpected argument \"extra\"\nUsage: fake",
		}},
		{name: "both logs", args: []string{"-v", "--log"}, wantCode: demos.ExitUsage, wantInErr: []string{
			"fake: give -v or --log, not both",
		}},
		{name: "the demo fails", args: []string{"--db", "broken"}, wantCode: demos.ExitFailure,
			wantOut: "ran on \"broken\"\n", wantInErr: []string{"fake: it broke\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := mainOf(tt.args)
			require.Equal(t, tt.wantCode, code, errOut)
			require.Equal(t, tt.wantOut, out)
			for _, want := range tt.wantInErr {
				require.Contains(t, errOut, want)
			}
			if tt.wantNoErrs {
				require.Empty(t, errOut)
			}
		})
	}
}

// An error that names the demo already is not named twice.
func TestMainNamesTheDemoOnce(t *testing.T) {
	code, _, errOut := mainOf([]string{"--db", "broken-prefixed"})
	require.Equal(t, demos.ExitFailure, code)
	require.Equal(t, "fake: it broke\n", errOut)
}

// --log writes the logs as JSON, one object a line.
func TestMainJSONLogs(t *testing.T) {
	code, _, errOut := mainOf([]string{"--log"})
	require.Equal(t, demos.ExitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	require.Len(t, lines, 1)
	var line map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &line))
	require.Equal(t, "a debug line", line["message"])
	require.Equal(t, "debug", line["level"])
}

// A command's own flags: a usage line of their own, a run of their own
// when set, a UsageError for a bad combination, and the demo otherwise.
func TestMainFlags(t *testing.T) {
	louder := demos.Flags{
		Usage: "--db PATH --shout",
		Define: func(fs *flag.FlagSet) func(ctx context.Context, opts demos.Options) (bool, error) {
			shout := fs.Bool("shout", false, "only shout")
			return func(ctx context.Context, opts demos.Options) (bool, error) {
				switch {
				case !*shout:
					return false, nil
				case opts.DBPath == "":
					return true, demos.UsageError("--shout needs --db")
				}
				opts.Narrator().Say("SHOUT ON %s", opts.DBPath)
				return true, nil
			}
		},
	}
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		wantOut   string
		wantInErr string
	}{
		{"the demo", []string{"--db", "x.db"}, demos.ExitOK, "ran on \"x.db\"\n", ""},
		{"the flag's run", []string{"--db", "x.db", "--shout"}, demos.ExitOK, "SHOUT ON x.db\n", ""},
		{"a usage error", []string{"--shout"}, demos.ExitUsage, "", "fake: --shout needs --db\nUsage: fake"},
		{"help", []string{"-h"}, demos.ExitOK, "", "Usage: fake [--db PATH] [-v | --log]\n       fake --db PATH --shout\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := mainOf(tt.args, louder)
			require.Equal(t, tt.wantCode, code, errOut)
			require.Equal(t, tt.wantOut, out)
			require.Contains(t, errOut, tt.wantInErr)
		})
	}
}
