// Package demos holds what the bundled demos share: how they are run
// (Options), how they narrate (Narrator), and how the binary finds them
// (Demo). Each demo is a package below this one (tour, bank, caretaker,
// supervised, embed) with its vats registered under "<demo>/<vat>"
// bundle names; examples/<demo> is its main, and `kernel-actors demo
// <demo>` runs the same code.
//
// It must not hold vat code or kernel logic of its own.
package demos
