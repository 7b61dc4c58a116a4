//go:build invariants || race

package invariants

// Enabled reports whether cheap invariant checks run.
const Enabled = true
