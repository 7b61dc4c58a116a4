// Package demos holds the binary's copies of the examples it runs as
// demos (internal/demos/NAME is examples/NAME but its main.go, as package
// NAME) and their catalog (internal/demos/catalog), for the demo command
// and the binary's registry.
//
// Each example is a main, so that a user can copy its folder into a module
// of their own and run it; a main cannot be imported, hence the copies.
// They are generated, never edited: edit the example, then run
//
//	go generate ./internal/demos
//
// which rewrites every internal/demos/NAME/example.go; the package's test
// fails while a copy differs from its example by a byte.
package demos

//go:generate go test -run TestCopiesAreTheExamples -update
