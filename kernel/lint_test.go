package kernel_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestKernelIsAStateMachine enforces STYLE.md 1 and 17 on the kernel's own
// code (not its tests or kerneltest): no goroutines, no clock, no
// randomness, no actor runtime, and no panic but through bugf.
func TestKernelIsAStateMachine(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	banned := map[string]string{
		"github.com/asynkron/protoactor-go": "the actor runtime",
		"math/rand":                         "randomness",
		"math/rand/v2":                      "randomness",
		"crypto/rand":                       "randomness",
	}
	// time is allowed for durations in configs, not for reading the clock
	// or waiting.
	clock := map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
		"AfterFunc": true, "NewTimer": true, "NewTicker": true, "Tick": true}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		checked++
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for prefix, why := range banned {
				if path == prefix || strings.HasPrefix(path, prefix+"/") {
					t.Errorf("%s imports %s: kernel/ must not use %s", f, path, why)
				}
			}
			if strings.Contains(path, "kernel-actors/actors") || strings.Contains(path, "kernel-actors/supervisor") {
				t.Errorf("%s imports %s: dependencies point down", f, path)
			}
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: go statement: kernel/ starts no goroutines", fset.Position(n.Pos()))
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "panic" && f != "assert.go" {
					t.Errorf("%s: panic: use bugf, with a sentence saying what broke", fset.Position(n.Pos()))
				}
			case *ast.SelectorExpr:
				if pkg, ok := n.X.(*ast.Ident); ok && pkg.Name == "time" && clock[n.Sel.Name] {
					t.Errorf("%s: time.%s: kernel/ must not use the clock", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("lint checked only %d files; is the working directory right?", checked)
	}
}
