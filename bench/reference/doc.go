// Package reference holds the benchmark of the reference kernel
// (MetaMask's ocap-kernel, with JavaScript vats in Node worker threads)
// that BENCHMARKS.md sets beside this kernel's JavaScript-vat figures. The
// benchmark itself is JavaScript (bench.mjs; README.md says how to run
// it); this package only holds the test that runs the README's commands,
// behind the build tag refbench because it needs the npm registry and
// takes minutes:
//
//	go test -tags refbench ./bench/reference -v -timeout 30m
package reference
