//go:build linux

package cli

import (
	"os/exec"
	"syscall"
)

// setPeerAttrs makes the kernel deliver SIGKILL to a child when its
// parent dies, so not even a parent killed with SIGKILL leaves a kernel
// running. (Elsewhere the child ends when its stdin closes.)
func setPeerAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
