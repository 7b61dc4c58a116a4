package bench

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// peakRSS is the process's peak resident set size (VmHWM) in bytes, 0
// where /proc is missing.
func peakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == "VmHWM:" {
			kb, err := strconv.ParseUint(string(f[1]), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux's
// clear_refs "5"), so each repetition reports its own peak rather than
// the process's. Where that is not possible the peak stays the
// process's: larger, never smaller, than the repetition's.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
