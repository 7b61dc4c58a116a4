// Package demotest holds the test helpers the demos' tests and their
// examples' tests share: a synctest bubble that checks for leaked
// goroutines (Bubble), and a command run in one (RunCommand).
//
// It is imported by _test.go files only. It must not import the demos it
// serves, nor package demos, so that any of their tests may use it.
package demotest
