// Package stdvats holds small general-purpose vats the binary always
// registers, for trying the CLI and the control API and for the CLI's own
// tests: std/counter, a durable counter.
//
// It must stay small: the demos hold the teaching vats.
package stdvats
