//go:build !unix

package decode

// cpuSeconds is not measured here; benchmarks then report no CPU figures.
func cpuSeconds() float64 { return 0 }
