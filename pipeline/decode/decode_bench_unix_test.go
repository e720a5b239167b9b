//go:build unix

package decode

import "syscall"

// cpuSeconds is the CPU time this process has used (user and system,
// every thread), so that a benchmark can report throughput per CPU
// second, which other load on the machine does not change.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
