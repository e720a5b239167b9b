// Package benchproc measures the processes the benchmark commands under
// bench/ run: peak resident memory and CPU time, from the operating
// system's accounting of an ended process.
//
//	cmd := exec.Command(bin, args...)
//	_ = cmd.Run()
//	rss := benchproc.PeakRSS(cmd.ProcessState) // bytes; 0 when unknown
package benchproc

import (
	"os"
	"time"
)

// CPU is the user plus system CPU time of an ended process.
func CPU(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}
