//go:build !linux

package cli

import "os/exec"

// setPeerAttrs does nothing here: the child ends when its stdin closes,
// which it does when the parent dies.
func setPeerAttrs(*exec.Cmd) {}
