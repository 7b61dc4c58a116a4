//go:build refbench

package reference

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README's shell block runs as pasted, from the repository root, in a
// scratch copy of this folder (so node_modules and bundles stay out of
// the tree), with the quick settings its text gives (RUNS and
// ROUND_TRIPS) so that it takes minutes, not ten. It must print the
// figures table with a cranks/s row.
func TestREADMERuns(t *testing.T) {
	text, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(text), -1)
	if len(blocks) != 1 {
		t.Fatalf("want one sh block in README.md, found %d", len(blocks))
	}
	block := blocks[0][1]
	if !strings.HasPrefix(block, "cd bench/reference\n") {
		t.Fatalf("the block starts from the repository root with cd bench/reference:\n%s", block)
	}
	// A scratch root holding a copy of this folder at bench/reference.
	root := t.TempDir()
	dst := filepath.Join(root, "bench", "reference")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"package.json", "package-lock.json", "bench.mjs", "vat-worker-service.mjs", "vat-worker.mjs", "vats"} {
		if out, err := exec.Command("cp", "-r", f, filepath.Join(dst, f)).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v\n%s", f, err, out)
		}
	}
	cmd := exec.Command("bash", "-e", "-c", block)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "RUNS=1", "ROUND_TRIPS=100")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's block failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "cranks/s") {
		t.Fatalf("no cranks/s in the output:\n%s", out)
	}
	t.Logf("%s", out)
}
