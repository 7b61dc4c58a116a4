package kernel_test

import (
	"path/filepath"
	"testing"

	"github.com/cockroachdb/datadriven"

	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
)

// TestScenarios runs the scenario files in testdata (STYLE.md 20).
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if filepath.Ext(path) != ".txt" {
			return // testdata also holds the lint's Go probes
		}
		kt.RunScenario(t, path)
	})
}
