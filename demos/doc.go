// Package demos holds what the narrated demos under examples/ share, and
// what a program of the same kind may reuse: how a demo is run (Options),
// how it narrates (Narrator), how a binary lists it (Demo), how it starts
// and stops its kernel (WithKernel, or StartKernel and StopKernel; a Fresh
// demo refuses a used database with ErrNotFresh), how the host tells what
// a vat's result says it did (Send), and the command line every example
// has (Main, run as the process by Exec).
//
// Each demo is a main under examples/ (tour, bank, caretaker, supervised,
// embed) with its vats registered under "<demo>/<vat>" bundle names; it
// imports this package and other public ones only, so its folder runs as
// well copied into a module of its own. `kernel-actors demo <demo>` runs
// the same code.
//
// It must not hold vat code or kernel logic of its own: it reaches the
// kernel through package actors, as an embedding program would, and the
// store (package persistence) only to look, before starting, whether a
// database holds vats.
package demos
