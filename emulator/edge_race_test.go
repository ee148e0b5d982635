//go:build race

package emulator

// raceEnabled reports whether the tests run under the race detector, which makes the
// edge about ten times slower; the load test then sends fewer requests.
const raceEnabled = true
