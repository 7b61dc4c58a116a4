package persistence_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The kernel and this package build without SQLite and without cgo code of
// their own: the SQLite backend lives in package sqlitestore, which only
// the runtime and tools import.
func TestKernelDoesNotDependOnSQLite(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to list dependencies: %v", err)
	}
	for _, pkg := range []string{"github.com/ocapgo/kernel-actors/kernel", "github.com/ocapgo/kernel-actors/persistence"} {
		out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.Contains(dep, "sqlite") || dep == "database/sql" {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
