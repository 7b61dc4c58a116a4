package main

import (
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEEveryBlockRuns finds every fenced block of README.md and runs
// it the way a reader would use it, from its own words:
//
//   - a ```go block that is a whole program (package main) is built in a
//     new module that requires this one (a replace directive points at
//     this checkout; nothing is downloaded) and run twice in one
//     directory, as a reader runs it again: both runs must succeed. A
//     ```go block of statements is run once the same way, inside a main
//     with ctx, importing the packages it names. Each
//     `fmt.Println(...) // TEXT` comment is a line every run must print,
//     in order; the block must be gofmt-clean.
//   - a ```yaml block is a cluster config: `kernel-actors run --config`
//     launches it on a new file, and run again on that file resumes it.
//     The tour's config is then served, its alice restarted, and asked
//     for bob: a vat that kept its presences in Go variables fails here.
//   - a ```sh block runs in bash from the repository's root. Two are run
//     elsewhere: the session (TestREADMESession, which checks each output
//     its comments promise) and the test command (CI runs it verbatim:
//     this test checks that .ci/run has it; running the whole suite from
//     inside the suite would recurse).
//
// A block no runner knows fails the test: a new block comes with its way
// to run.

// readmeFence is one fenced code block of README.md.
type readmeFence struct {
	lang string // the fence's info string: "go", "sh", "yaml", ...
	line int    // the line of the opening fence, for messages
	text string
}

func (f readmeFence) String() string { return fmt.Sprintf("README.md:%d (```%s)", f.line, f.lang) }

// readmeFences returns every fenced block of the README, in order.
func readmeFences(t *testing.T) []readmeFence {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	require.NoError(t, err)
	var out []readmeFence
	var cur *readmeFence
	for i, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &readmeFence{lang: strings.TrimSpace(strings.TrimPrefix(line, "```")), line: i + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	require.Nil(t, cur, "README.md: a code block opened and never closed")
	return out
}

// repoRoot is the repository's root, where the README is.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

func TestREADMEEveryBlockRuns(t *testing.T) {
	fences := readmeFences(t)
	require.NotEmpty(t, fences)
	bindir := t.TempDir()
	ka := sync.OnceValues(func() (string, error) { return buildKA(bindir) }) // for the blocks that call it
	for _, f := range fences {
		t.Run(fmt.Sprintf("%s_line%d", f.lang, f.line), func(t *testing.T) {
			switch {
			case f.lang == "go":
				runGoBlock(t, f)
			case f.lang == "yaml":
				bin, err := ka()
				require.NoError(t, err)
				runConfigBlock(t, f, bin)
			case f.lang == "sh" && strings.Contains(f.text, "ka serve"):
				t.Log("run by TestREADMESession, which checks its outputs")
			case f.lang == "sh" && strings.Contains(f.text, "go test "):
				ci, err := os.ReadFile(filepath.Join(repoRoot(t), ".ci", "run"))
				require.NoError(t, err)
				for _, cmd := range strings.Split(strings.TrimSpace(f.text), "\n") {
					require.Contains(t, strings.Split(string(ci), "\n"), cmd, "%v: CI runs the README's test command verbatim", f)
				}
			case f.lang == "sh":
				cmd := exec.Command("bash", "-e", "-c", f.text)
				cmd.Dir = repoRoot(t)
				cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "%v:\n%s", f, out)
			default:
				t.Fatalf("%v: no runner for this kind of block; add one to readme_test.go (every README block must run)", f)
			}
		})
	}
}

// buildKA builds the binary the README's commands call kernel-actors,
// into dir.
func buildKA(dir string) (string, error) {
	bin := filepath.Join(dir, "kernel-actors")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/kernel-actors")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/kernel-actors: %w\n%s", err, out)
	}
	return bin, nil
}

// printlnWant matches a `fmt.Println(...) // TEXT` line: TEXT is what it
// prints.
var printlnWant = regexp.MustCompile(`(?m)^\s*fmt\.Println\(.*\)\s*// (.+)$`)

// runGoBlock builds a Go block as a program of a module of its own and
// runs it (twice if it is a whole program), checking the lines its
// Println comments promise.
func runGoBlock(t *testing.T, f readmeFence) {
	formatted, err := format.Source([]byte(f.text))
	require.NoError(t, err, "%v does not parse", f)
	require.Equal(t, string(formatted), f.text, "%v is not gofmt-clean", f)
	src, runs := f.text, 2
	if !strings.HasPrefix(strings.TrimSpace(f.text), "package ") {
		src, runs = wrapStatements(t, f), 1
	}
	var want []string
	for _, m := range printlnWant.FindAllStringSubmatch(f.text, -1) {
		want = append(want, m[1])
	}
	bin := buildModule(t, src)
	work := t.TempDir()
	for run := 1; run <= runs; run++ {
		cmd := exec.Command(bin)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%v, run %d:\n%s", f, run, out)
		require.Equal(t, want, printedLines(string(out), len(want)), "%v, run %d: the lines its comments promise; it printed:\n%s", f, run, out)
	}
}

// printedLines is the first n lines of out (all of them if fewer).
func printedLines(out string, n int) []string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if out == "" {
		lines = nil
	}
	if len(lines) > n {
		lines = lines[:n]
	}
	return lines
}

// readmePackages are the packages a README block of statements may name
// without importing them.
var readmePackages = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "os": "os", "time": "time",
	"actors":      "github.com/ocapgo/kernel-actors/actors",
	"kernel":      "github.com/ocapgo/kernel-actors/kernel",
	"marshal":     "github.com/ocapgo/kernel-actors/marshal",
	"persistence": "github.com/ocapgo/kernel-actors/persistence",
	"vat":         "github.com/ocapgo/kernel-actors/vat",
}

// wrapStatements makes a program of a block of statements: a main that
// has ctx, importing the packages the block names.
func wrapStatements(t *testing.T, f readmeFence) string {
	t.Helper()
	body := "func main() {\nctx := context.Background()\n_ = ctx\n" + f.text + "}\n"
	file, err := parser.ParseFile(token.NewFileSet(), "block.go", "package main\n"+body, 0)
	require.NoError(t, err, "%v is not a block of statements", f)
	imports := map[string]bool{"context": true}
	ast.Inspect(file, func(n ast.Node) bool {
		// A selector on a name declared nowhere in the block is a package.
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Obj == nil {
				path, known := readmePackages[id.Name]
				require.True(t, known, "%v names package %q; add it to readmePackages", f, id.Name)
				imports[path] = true
			}
		}
		return true
	})
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n")
	for _, path := range slices.Sorted(maps.Keys(imports)) {
		fmt.Fprintf(&b, "\t%q\n", path)
	}
	b.WriteString(")\n\n" + body)
	return b.String()
}

// buildModule builds src as the main package of a new module that
// requires this repository through a replace directive, with this
// repository's requirements and sums, from the module cache only.
func buildModule(t *testing.T, src string) string {
	t.Helper()
	root := repoRoot(t)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	goLine := regexp.MustCompile(`(?m)^go .*$`).FindString(string(gomod))
	requires := string(gomod)[strings.Index(string(gomod), "\nrequire")+1:]
	dir := t.TempDir()
	mod := fmt.Sprintf("module readme\n\n%s\n\nrequire github.com/ocapgo/kernel-actors v0.0.0\n\nreplace github.com/ocapgo/kernel-actors => %s\n\n%s",
		goLine, root, requires)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644))
	bin := filepath.Join(dir, "prog")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "building:\n%s\n%s", out, src)
	return bin
}

// runConfigBlock runs a cluster config as the Configuration section says:
// launched by `run --config` on a new file, then resumed by a second run
// on it. The tour's cluster is then served, its alice (v1: ids go in name
// order) restarted, and asked for bob through her root (ko1), which needs
// the presence she kept from bootstrap.
func runConfigBlock(t *testing.T, f readmeFence, ka string) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tour.yaml"), []byte(f.text), 0o644))
	run := func(script string) string {
		t.Helper()
		cmd := exec.Command("bash", "-e", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "KA="+ka)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%v:\n%s", f, out)
		return string(out)
	}
	require.Contains(t, run(`"$KA" run --config tour.yaml --db tour.db`), "bootstrap result:")
	require.Contains(t, run(`"$KA" run --config tour.yaml --db tour.db`), "resumed", "the second run resumes the cluster")
	if !strings.Contains(f.text, "tour/alice") {
		return
	}
	out := run(`trap 'kill %1 2>/dev/null; wait' EXIT
"$KA" serve --db tour.db --listen 127.0.0.1:0 &
until "$KA" status --db tour.db >/dev/null 2>&1; do sleep 0.1; done
"$KA" restart --db tour.db v1
"$KA" send --db tour.db ko1 askBob`)
	require.Contains(t, out, "vat v1 restarted", "alice restarted")
	require.Contains(t, out, `"hello alice, from bob"`, "the restarted alice still reaches bob")
}

// The repository stands alone: no tracked file points at the private
// design notes its authors worked from, which a reader of the repository
// does not have (their names, and the paths they lived at), nor cites a
// numbered section with no document named beside it (in the README).
func TestNothingPointsOutsideTheRepo(t *testing.T) {
	cmd := exec.Command("git", "ls-files")
	cmd.Dir = repoRoot(t)
	list, err := cmd.Output()
	require.NoError(t, err, "git ls-files")
	// Spelled in pieces so that this file does not match itself.
	outside := []string{"../" + "shared", "shared" + "/reference", "DESIGN" + ".md", "STYLE" + ".md",
		"anchors" + ".md", "ocap-kernel-" + "semantics", "protoactor-go" + ".md"}
	var found []string
	for _, name := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), name))
		if err != nil {
			continue // listed but absent (deleted in the work tree)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, o := range outside {
				if strings.Contains(line, o) {
					found = append(found, fmt.Sprintf("%s:%d: %s", name, i+1, strings.TrimSpace(line)))
				}
			}
		}
	}
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	require.NoError(t, err)
	for _, m := range regexp.MustCompile(`\(§[0-9.]+\)`).FindAllString(string(readme), -1) {
		found = append(found, "README.md: a bare section citation "+m)
	}
	require.Empty(t, found, "references to files the repository does not contain")
}
