//go:build !race

package emulator

// raceEnabled reports whether the tests run under the race detector.
const raceEnabled = false
