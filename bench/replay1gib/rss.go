//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

// peakRSS is the maximum resident set size of an ended process, in bytes
// (getrusage's ru_maxrss: KiB on Linux, bytes on macOS); 0 when unknown.
func peakRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) << 10
}
