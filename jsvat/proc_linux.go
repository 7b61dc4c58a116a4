package jsvat

import (
	"syscall"
	"unsafe"
)

// sysProcAttr puts the worker in a process group of its own, so killing
// the group takes anything it started too, and asks Linux to kill it if
// the thread that started it ends: the kernel's process dying (even by
// SIGKILL) takes its workers with it, instead of leaving a spinning vat
// behind.
func sysProcAttr() *syscall.SysProcAttr {
	// Pdeathsig fires when the starting thread ends, not the process: that is
	// why spawn starts and reaps each worker on a goroutine locked to its own
	// thread, which lives exactly as long as the worker.
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to the worker's process group.
func killGroup(pid int) {
	// A pid of 0 would signal the kernel's own process group (kill(-0)
	// is kill(0)), and a negative one some unrelated process: never sent.
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// pipeBytes is how many bytes wait to be read in the pipe fd (FIONREAD).
func pipeBytes(fd uintptr) int {
	var n int32
	// On an error, 0: call then finds anything waiting when it reads the
	// delivery's frames, and judges it there (the weaker check of other
	// systems).
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); errno != 0 {
		return 0
	}
	return int(n)
}
