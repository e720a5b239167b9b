//go:build !unix

package pipeline

// cpuSeconds is not measured here; benchmarks then report no CPU figures.
func cpuSeconds() float64 { return 0 }
