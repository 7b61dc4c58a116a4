//go:build unix

package actors_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used so far (user and
// system), or -1 if it cannot tell.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
