//go:build !race

package sandbox

// raceDetector is true when the tests run with the race detector.
const raceDetector = false
