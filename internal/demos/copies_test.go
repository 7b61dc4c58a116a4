package demos

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// update rewrites the copies instead of checking them.
var update = flag.Bool("update", false, "rewrite internal/demos/*/example.go from examples/")

// copyFile is the one file of each copy.
const copyFile = "example.go"

// copied are the examples the binary's demo command runs, as catalog
// lists them (its test checks that it lists these).
var copied = []string{"tour", "bank", "caretaker", "supervised", "embed"}

// The binary's demo command runs the examples' own code: each example is
// a main (so that a user can copy its folder into a module of their own
// and run it), and a main cannot be imported, so internal/demos/NAME holds
// its files but main.go, joined into one as package NAME. This test fails
// when a copy differs from its example by a byte; with -update (go
// generate ./internal/demos) it writes them.
func TestCopiesAreTheExamples(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, name := range copied {
		t.Run(name, func(t *testing.T) {
			want, err := exampleCopy(filepath.Join(root, "examples", name), name)
			require.NoError(t, err)
			path := filepath.Join(root, "internal", "demos", name, copyFile)
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, want, 0o644))
				return
			}
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got),
				"%s is not examples/%s: run go generate ./internal/demos", path, name)
		})
	}
}

// exampleCopy joins the example's files in dir (but main.go and tests)
// into one source file of package name: one import block, then each
// file's declarations in file-name order, with their comments.
func exampleCopy(dir, name string) ([]byte, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	imports := map[string]string{} // "name path" line -> itself, deduplicated
	var bodies bytes.Buffer
	fset := token.NewFileSet()
	for _, p := range paths {
		base := filepath.Base(p)
		if base == "main.go" || strings.HasSuffix(base, "_test.go") {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, p, src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		if f.Name.Name != "main" {
			return nil, fmt.Errorf("%s: package %s, want main", p, f.Name.Name)
		}
		for _, imp := range f.Imports {
			line := imp.Path.Value
			if imp.Name != nil {
				line = imp.Name.Name + " " + line
			}
			imports[line] = line
		}
		// The body starts after the package clause and the imports.
		end := f.Name.End()
		for _, decl := range f.Decls {
			if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
				end = max(end, g.End())
			}
		}
		off := fset.Position(end).Offset
		fmt.Fprintf(&bodies, "\n// From examples/%s/%s.\n%s", name, base, src[off:])
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "// Code generated from examples/%s by go generate ./internal/demos. DO NOT EDIT.\n\n", name)
	fmt.Fprintf(&out, "// Package %s is examples/%s (its files but main.go) as a package, for\n", name, name)
	fmt.Fprintf(&out, "// the binary's demo command. Edit the example, then run go generate.\n")
	fmt.Fprintf(&out, "package %s\n\nimport (\n", name)
	lines := make([]string, 0, len(imports))
	for l := range imports {
		lines = append(lines, l)
	}
	// Grouped as the repository writes them: the standard library, other
	// modules, this one.
	slices.SortFunc(lines, func(a, b string) int {
		if ga, gb := importGroup(a), importGroup(b); ga != gb {
			return ga - gb
		}
		return strings.Compare(importPath(a), importPath(b))
	})
	for i, l := range lines {
		if i > 0 && importGroup(lines[i-1]) != importGroup(l) {
			out.WriteString("\n")
		}
		fmt.Fprintf(&out, "\t%s\n", l)
	}
	out.WriteString(")\n")
	out.Write(bodies.Bytes())
	return format.Source(out.Bytes())
}

// importPath is the path of an import line ("name \"path\"" or "\"path\"").
func importPath(line string) string {
	i := strings.LastIndex(line, " ")
	p, err := strconv.Unquote(line[i+1:])
	if err != nil {
		return line
	}
	return p
}

// importGroup is 0 for the standard library, 1 for another module and 2
// for this one.
func importGroup(line string) int {
	p := importPath(line)
	switch first, _, _ := strings.Cut(p, "/"); {
	case strings.HasPrefix(p, "github.com/ocapgo/kernel-actors/"):
		return 2
	case strings.Contains(first, "."):
		return 1
	}
	return 0
}
