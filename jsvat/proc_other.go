//go:build !linux

package jsvat

import "syscall"

// sysProcAttr: elsewhere than Linux there is no parent-death signal; a
// worker still ends when the kernel closes its pipe, unless it spins.
// Without a process group, kill reaches the worker alone, not any
// process it started.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup is a no-op: Process.Kill ends the worker itself.
func killGroup(int) {}

// pipeBytes is not known here: what a worker writes between deliveries is
// found only when the next one reads it.
func pipeBytes(uintptr) int { return 0 }
