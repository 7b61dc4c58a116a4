//go:build !unix

package actors_test

import "time"

// processCPU cannot tell the CPU time here.
func processCPU() time.Duration { return -1 }
