//go:build !unix

package benchproc

import "os"

// PeakRSS is unknown where getrusage is not available.
func PeakRSS(*os.ProcessState) int64 { return 0 }
