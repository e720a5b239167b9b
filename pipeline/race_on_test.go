//go:build race

package pipeline

// raceEnabled is true when the tests run with the race detector, which
// slows them and adds allocations of its own.
const raceEnabled = true
