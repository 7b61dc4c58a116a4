// Package invariants switches on cheap consistency checks that release
// builds skip. Enabled is true under -tags invariants or
// -race; .ci/run always sets the tag.
package invariants
