// Package demotest holds the test helpers the examples' tests share: a
// synctest bubble that checks for leaked goroutines (Bubble), and a demo's
// command run in one (RunCommand).
//
// It is for _test.go files. It must not import the demos it serves, nor
// package demos, so that any of their tests may use it.
package demotest
