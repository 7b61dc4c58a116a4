// Package demos holds what the bundled demos share: how they are run
// (Options), how they narrate (Narrator), how the binary finds them
// (Demo), how each starts and stops its kernel (WithKernel, or
// StartKernel and StopKernel; a Fresh demo refuses a used database with
// ErrNotFresh), how the host tells what a vat's result says it did
// (Send), and the command line of their examples (Main). Each demo
// is a package below this one (tour, bank, caretaker, supervised, embed)
// with its vats registered under "<demo>/<vat>" bundle names;
// examples/<demo> is its main, a call to Main, and `kernel-actors demo
// <demo>` runs the same code.
//
// It must not hold vat code or kernel logic of its own: it reaches the
// kernel through package actors, as an embedding program would, and the
// store (package persistence) only to look, before starting, whether a
// database holds vats.
package demos
