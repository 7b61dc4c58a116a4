package kernel_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The kernel is a state machine (see doc.go): it changes only when
// called, and everything it does is a function of its store and its
// inputs. lintFiles checks the rules that keep it so, on the syntax of
// each file (no type information, so that a probe file that does not
// build can be checked too):
//
//   - "go": no go statements;
//   - "chan": no channel types (which covers make(chan ...), conversions
//     and parameters), no send and no receive operations;
//   - "select": no select statements;
//   - "sync": no sync or sync/atomic (there is nothing to share);
//   - "clock": no reading the clock or waiting (time.Now, Since, Until,
//     Sleep, After, AfterFunc, Tick, NewTimer, NewTicker, and the Timer
//     and Ticker types), whatever name time is imported under, called or
//     taken as a function value; and no dot import of time, which would
//     hide them;
//   - "random": no math/rand, math/rand/v2, crypto/rand, or hash/maphash
//     (randomly seeded);
//   - "import": no actor runtime (protoactor-go), and nothing from
//     actors/ or supervisor/ (dependencies point down);
//   - "panic": no panic but the one in the package-level bugf, which
//     panics with an InvariantError; no log or zerolog Panic either.
//
// Each construct gives one finding: a make(chan T) is one "chan", a
// select is one "select" (its cases are not reported again), and a banned
// import is reported once, not at each use.
//
// What it cannot see without types: a range over a channel that comes
// from another package's function (the channel type is written there, not
// here), and a clock read hidden behind another package's function.

// lintFinding is one broken rule.
type lintFinding struct {
	Pos  token.Position
	Rule string // one of the rule names above
	Msg  string
}

func (f lintFinding) String() string { return fmt.Sprintf("%s: [%s] %s", f.Pos, f.Rule, f.Msg) }

// lintRules selects what lintFiles checks beyond the common rules.
type lintRules struct {
	// allowPanics lifts the "panic" rule, for the test harness, whose
	// fake vats panic on purpose as vat code may.
	allowPanics bool
}

// bannedImports maps an import path (and every path under it) to its rule
// and the reason.
var bannedImports = []struct{ path, rule, why string }{
	{"sync", "sync", "kernel/ shares nothing between goroutines"},
	{"math/rand", "random", "kernel/ uses no randomness"},
	{"crypto/rand", "random", "kernel/ uses no randomness"},
	{"hash/maphash", "random", "maphash is randomly seeded"},
	{"github.com/asynkron/protoactor-go", "import", "kernel/ must not import the actor runtime"},
	{"github.com/ocapgo/kernel-actors/actors", "import", "dependencies point down: actors/ uses kernel/"},
	{"github.com/ocapgo/kernel-actors/supervisor", "import", "dependencies point down: supervisor/ is above kernel/"},
}

// clockNames are the names in package time that read the clock or wait.
// Durations and formatting stay allowed.
var clockNames = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true, "AfterFunc": true,
	"Tick": true, "NewTimer": true, "NewTicker": true, "Timer": true, "Ticker": true,
}

// lintDir lints every non-test .go file in dir, returning the findings and
// how many files it read.
func lintDir(dir string, rules lintRules) ([]lintFinding, int, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, 0, err
	}
	paths = slices.DeleteFunc(paths, func(p string) bool { return strings.HasSuffix(p, "_test.go") })
	findings, err := lintFiles(paths, rules)
	return findings, len(paths), err
}

// lintFiles lints the named files, in order.
func lintFiles(paths []string, rules lintRules) ([]lintFinding, error) {
	var out []lintFinding
	fset := token.NewFileSet()
	for _, path := range paths {
		file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("lint: %w", err)
		}
		out = append(out, lintFile(fset, file, rules)...)
	}
	return out, nil
}

func lintFile(fset *token.FileSet, file *ast.File, rules lintRules) []lintFinding {
	var out []lintFinding
	report := func(n ast.Node, rule, format string, args ...any) {
		out = append(out, lintFinding{Pos: fset.Position(n.Pos()), Rule: rule, Msg: fmt.Sprintf(format, args...)})
	}
	// timeNames holds the names package time goes by in this file.
	timeNames := map[string]bool{}
	for _, imp := range file.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		for _, b := range bannedImports {
			if path == b.path || strings.HasPrefix(path, b.path+"/") {
				report(imp, b.rule, "import %q: %s", path, b.why)
			}
		}
		if path != "time" {
			continue
		}
		switch {
		case imp.Name == nil:
			timeNames["time"] = true
		case imp.Name.Name == ".":
			report(imp, "clock", `dot import of "time" hides clock reads; import it by name`)
		case imp.Name.Name != "_":
			timeNames[imp.Name.Name] = true
		}
	}
	// Nodes already covered by another finding, so that each construct
	// is reported once.
	covered := map[ast.Node]bool{}
	var inBugf bool
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		if covered[n] {
			return true
		}
		switch n := n.(type) {
		case *ast.FuncDecl:
			// Only the package-level bugf may panic; walk its body with
			// the flag set, then go on with the rest of the file.
			if n.Recv == nil && n.Name.Name == "bugf" && n.Body != nil {
				inBugf = true
				ast.Inspect(n.Body, visit)
				inBugf = false
				return false
			}
		case *ast.GoStmt:
			report(n, "go", "go statement: kernel/ starts no goroutines")
		case *ast.ChanType:
			report(n, "chan", "channel type: kernel/ has no channels")
		case *ast.SendStmt:
			report(n, "chan", "channel send: kernel/ has no channels")
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				report(n, "chan", "channel receive: kernel/ has no channels")
			}
		case *ast.SelectStmt:
			report(n, "select", "select: kernel/ waits on nothing")
			for _, c := range n.Body.List {
				if cc, ok := c.(*ast.CommClause); ok && cc.Comm != nil {
					coverComm(cc.Comm, covered)
				}
			}
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok && id.Obj == nil {
				switch {
				case id.Name == "make" && len(n.Args) > 0:
					if ct, ok := n.Args[0].(*ast.ChanType); ok {
						report(n, "chan", "make(chan ...): kernel/ has no channels")
						covered[ct] = true
					}
				case id.Name == "panic" && !inBugf && !rules.allowPanics:
					report(n, "panic", "panic: call bugf, with a sentence saying what broke")
				}
			}
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && !rules.allowPanics {
				switch sel.Sel.Name {
				case "Panic", "Panicf", "Panicln":
					report(n, "panic", "%s: a logger's panic is still a panic; call bugf", sel.Sel.Name)
				}
			}
		case *ast.SelectorExpr:
			// time.Now() and a function value time.Now alike, under any
			// import name; an identifier declared in the file (a local
			// variable that shadows the package) has an Obj.
			if pkg, ok := n.X.(*ast.Ident); ok && pkg.Obj == nil && timeNames[pkg.Name] && clockNames[n.Sel.Name] {
				report(n, "clock", "%s.%s: kernel/ must not read the clock or wait; take the time as an input", pkg.Name, n.Sel.Name)
			}
		}
		return true
	}
	ast.Inspect(file, visit)
	return out
}

// coverComm marks the send or receive of a select case as covered by the
// select's own finding.
func coverComm(s ast.Stmt, covered map[ast.Node]bool) {
	switch s := s.(type) {
	case *ast.SendStmt:
		covered[s] = true
	case *ast.ExprStmt:
		covered[s.X] = true
	case *ast.AssignStmt:
		for _, r := range s.Rhs {
			covered[r] = true
		}
	}
}

// TestKernelIsAStateMachine holds kernel/'s own code (not its tests) to
// the rules, and the test harness kerneltest/ to all but the panic rule.
func TestKernelIsAStateMachine(t *testing.T) {
	for _, tt := range []struct {
		dir      string
		rules    lintRules
		minFiles int
	}{
		{dir: ".", minFiles: 10},
		{dir: "kerneltest", rules: lintRules{allowPanics: true}, minFiles: 4},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			findings, n, err := lintDir(tt.dir, tt.rules)
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, tt.minFiles, "lint read only %d files; is the working directory right?", n)
			for _, f := range findings {
				t.Error(f)
			}
		})
	}
}

// wantRE reads a probe line's expectation: "// want: rule rule ...".
var wantRE = regexp.MustCompile(`// want: ([a-z ]+)$`)

// TestLintFindsEveryBannedConstruct runs the lint on a probe file that
// breaks every rule, each line marked with what it breaks, and requires
// exactly those findings: one per construct, none missing, none extra.
// A clean file that comes close (durations, a local named time, an
// injected clock, bugf's own panic) gives none.
func TestLintFindsEveryBannedConstruct(t *testing.T) {
	const probe = "testdata/lint_probe.go"
	src, err := os.ReadFile(probe)
	require.NoError(t, err)
	var want []string
	for i, line := range strings.Split(string(src), "\n") {
		if m := wantRE.FindStringSubmatch(line); m != nil {
			for _, rule := range strings.Fields(m[1]) {
				want = append(want, fmt.Sprintf("%d %s", i+1, rule))
			}
		}
	}
	findings, err := lintFiles([]string{probe}, lintRules{})
	require.NoError(t, err)
	var got []string
	for _, f := range findings {
		got = append(got, fmt.Sprintf("%d %s", f.Pos.Line, f.Rule))
	}
	slices.Sort(want)
	slices.Sort(got)
	require.Equal(t, want, got, "line and rule of every finding (findings: %v)", findings)
	rules := map[string]bool{}
	for _, f := range findings {
		rules[f.Rule] = true
	}
	for _, r := range []string{"go", "chan", "select", "sync", "clock", "random", "import", "panic"} {
		require.True(t, rules[r], "the probe breaks rule %q", r)
	}

	clean, err := lintFiles([]string{"testdata/lint_clean.go"}, lintRules{})
	require.NoError(t, err)
	require.Empty(t, clean)

	// The harness's exemption lifts the panic rule and nothing else.
	lax, err := lintFiles([]string{probe}, lintRules{allowPanics: true})
	require.NoError(t, err)
	for _, f := range lax {
		require.NotEqual(t, "panic", f.Rule, f.String())
	}
	require.Len(t, lax, len(findings)-strings.Count(strings.Join(want, "\n"), " panic"))
}
