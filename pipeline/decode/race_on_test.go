//go:build race

package decode

// raceEnabled is true when the tests run with the race detector, which
// slows them several times over.
const raceEnabled = true
