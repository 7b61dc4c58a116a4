//go:build jsvat

package jsvat_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
)

// Conformance with the reference: the scenarios of ocap-kernel's
// kernel-test, run on this kernel with JavaScript vats written for them
// here (testdata/conformance), checked against the test logs the
// reference's tests expect, vat by vat.

// testLogs returns, in order, the messages of the test log of the vat
// named name (entries tagged "test" and name) among vats.
func testLogs(l *logBuffer, vats map[string]kernel.VatID, name string) []string {
	var out []string
	for _, e := range l.entries(map[string]any{"source": "vat"}) {
		tags, _ := e["tags"].([]any)
		if !slices.Contains(tags, any("test")) || !slices.Contains(tags, any(name)) {
			continue
		}
		if id, _ := e["vat"].(string); slices.Contains(slices.Collect(mapValues(vats)), kernel.VatID(id)) {
			out = append(out, e["message"].(string))
		}
	}
	return out
}

func mapValues(m map[string]kernel.VatID) func(func(kernel.VatID) bool) {
	return func(yield func(kernel.VatID) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// threeVats is the reference's test subcluster: Alice (bootstrap, running
// test), Bob and Carol, all of one bundle.
func threeVats(spec, test string) kernel.ClusterConfig {
	vat := func(name string) kernel.VatConfig {
		p := map[string]any{"name": name}
		if name == "Alice" {
			p["test"] = test
		}
		return kernel.VatConfig{BundleSpec: spec, Parameters: p}
	}
	return kernel.ClusterConfig{Bootstrap: "alice", Vats: map[string]kernel.VatConfig{
		"alice": vat("Alice"), "bob": vat("Bob"), "carol": vat("Carol"),
	}}
}

// The reference's "liveslots promise handling" family.
func TestConformanceLiveslotsPromises(t *testing.T) {
	ctx := context.Background()
	logs := &logBuffer{}
	k := startKernel(t, actors.Config{Logger: zerologTo(logs)})
	spec := bundleOf(t, "conformance/promises.js")
	tests := []struct {
		test       string
		result     any
		alice, bob []string
		carol      []string
	}{
		{"promiseArg1", "bobPSucc", []string{
			"running test promiseArg1", "sending the promise to Bob", "resolving the promise that was sent to Bob",
			"awaiting Bob's response", "Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'",
		}, []string{"the promise parameter resolved to 'Alice said hi after send'"}, nil},
		{"promiseArg2", "bobPSucc", []string{
			"running test promiseArg2", "resolving the promise that will be sent to Bob", "sending the promise to Bob",
			"awaiting Bob's response", "Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'",
		}, []string{"the promise parameter resolved to 'Alice said hi before send'"}, nil},
		{"promiseArg3", "bobPSucc", []string{
			"running test promiseArg3", "sending the promise to Bob", "awaiting Bob's response",
			"Bob's response to hereIsAPromise: 'Bob.hereIsAPromise done'", "resolving the promise that was sent to Bob",
		}, []string{"the promise parameter resolved to 'Alice said hi after Bob's reply'"}, nil},
		{"promiseChain", "end of chain", []string{
			"running test promiseChain", "waitFor start", "count 0 < 3, recurring...", "waitFor start",
			"count 1 < 3, recurring...", "waitFor start", "count 2 < 3, recurring...", "waitFor start", "finishing chain",
		}, []string{"bobGen set value to 1", "bobGen set value to 2", "bobGen set value to 3", "bobGen set value to 4"}, nil},
		{"promiseCycle", "done", []string{
			"running test promiseCycle", "isPromise(resolutionX[0]): true", "isPromise(resolutionY[0]): true",
		}, []string{"genPromise1", "genPromise2", "resolveBoth"}, nil},
		{"promiseCycleMultiCrank", "done", []string{
			"running test promiseCycleMultiCrank", "isPromise(resolutionX[0]): true", "isPromise(resolutionY[0]): true",
		}, []string{"genPromise1", "genPromise2", "resolve1", "resolve2"}, nil},
		{"promiseCrosswise", "done", []string{
			"running test promiseCrosswise", "isPromise(resolutionX[0]): true", "isPromise(resolutionY[0]): true",
		}, []string{"genPromise", "resolve"}, []string{"genPromise", "resolve"}},
		{"promiseIndirect", "done", []string{"running test promiseIndirect", "resolution == hello"},
			[]string{"genPromise1", "genPromise2", "resolve"}, nil},
		{"passResult", []any{"p1succ", "p2succ"}, []string{
			"running test passResult", "first result resolved to Bob's first answer", "second result resolved to Bob's second answer",
		}, []string{"first", "second", "parameter to second resolved to Bob's first answer"}, nil},
		{"passResultPromise", []any{"p1succ", "p2succ"}, []string{
			"running test passResultPromise", "first result resolved to Bob answers first in second",
			"second result resolved to Bob's second answer",
		}, []string{"first", "second", "parameter to second resolved to Bob answers first in second"}, nil},
		{"resolvePipelined", []any{"p1succ", "p2succ"}, []string{
			"running test resolvePipelined", "first result resolved to [object Alleged: thing]",
			"second result resolved to Bob's second answer",
		}, []string{"first", "thing.second"}, nil},
		{"messageToPromise", "p2succ", []string{
			"running test messageToPromise", "invoking loopback", "second result resolved to 'deferred something'", "loopback done",
		}, []string{"setup", "doResolve", "thing.doSomething", "loopback"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.test, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			res, err := k.LaunchSubcluster(ctx, threeVats(spec, tt.test))
			require.NoError(t, err)
			require.Equal(t, tt.result, res.BootstrapResult)
			require.NoError(t, k.WaitIdle(ctx))
			require.Equal(t, tt.alice, testLogs(logs, res.VatIDs, "Alice"), "Alice")
			require.Equal(t, tt.bob, testLogs(logs, res.VatIDs, "Bob"), "Bob")
			require.Equal(t, tt.carol, testLogs(logs, res.VatIDs, "Carol"), "Carol")
			require.NoError(t, k.TerminateSubcluster(ctx, res.SubclusterID))
		})
	}
}
