//go:build jsvat

package bench

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ocapgo/kernel-actors/jsvat"
)

// BenchmarkJS: ping-pong between two JavaScript vats, b.N round trips.
// It needs Node.js and the worker's packages (npm ci --prefix
// jsvat/worker), hence the build tag, as jsvat's own benchmarks:
//
//	go test -tags jsvat ./bench -run '^$' -bench JS
func BenchmarkJS(b *testing.B) {
	dir, err := filepath.Abs(filepath.Join("..", jsvat.DefaultWorkerDir))
	if err != nil {
		b.Fatal(err)
	}
	rt, err := jsvat.NewRuntime(jsvat.Options{WorkerDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	if err := rt.Check(context.Background()); err != nil {
		b.Fatal(err)
	}
	benchWorkload(b, "js", Options{JS: rt})
}

// The js workload runs at a tiny N, with the fields of every workload.
func TestJSWorkload(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", jsvat.DefaultWorkerDir))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := jsvat.NewRuntime(jsvat.Options{WorkerDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if err := rt.Check(context.Background()); err != nil {
		t.Fatalf("the js workload needs Node.js and the worker's packages: %v", err)
	}
	f := testFloors(t)
	rs, err := Run(context.Background(), Options{Workload: "js", N: 10, Warmup: 2, Reps: 1, JS: rt, Dir: t.TempDir()}, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, rs[0], f, 10)
}
