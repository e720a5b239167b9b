//go:build unix

package benchproc

import (
	"os"
	"runtime"
	"syscall"
)

// PeakRSS is the maximum resident set size of an ended process, in bytes
// (getrusage's ru_maxrss: KiB on Linux, bytes on macOS); 0 when unknown.
func PeakRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) << 10
}
