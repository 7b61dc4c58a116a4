// Package bank is the "bank" demo: the object-capability mint and purses
// of the E language and ERTP, as Go vats on the actor runtime.
//
// A mint (vat "bank/mint") makes purses. purse.deposit(amount, src) moves
// amount from src into the purse only if src is a genuine purse of the same
// mint holding at least amount. The mint decides that by looking src up in
// a private table from the purse objects it made to their balances (in E a
// WeakMap; here a Go map keyed by *vat.Object): an object made by any other
// vat arrives as a *vat.Presence and is never in the table, whatever it
// claims about itself. Alice and Bob (one honest owner's code, two vats)
// pay each other through payment purses; Mallory (vat "bank/mallory")
// tries to forge a purse, to overdraw hers, and to mint, and each attempt
// is rejected while the total supply stays the same.
//
// Vats never narrate: they run inside the kernel, and what they did comes
// back to the host in their results (a "story" of lines) or as rejections,
// which the host tells (see run.go).
//
// The package must not reach into the kernel's state or another demo: the
// story goes through the embedding API (package actors) and Go vats
// (package vat) alone, as a program embedding the kernel would; a given
// database that already holds vats is refused before the kernel starts
// (demos.StartKernel, as a Fresh demo).
package bank
