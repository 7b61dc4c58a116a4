package kernel_test

import (
	"testing"

	"github.com/cockroachdb/datadriven"

	kt "github.com/ocapgo/kernel-actors/kernel/kerneltest"
)

// TestScenarios runs the scenario files in testdata (STYLE.md 20).
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		kt.RunScenario(t, path)
	})
}
