//go:build race

package edge

// raceDetector is true when the tests run with the race detector, whose
// workers run without hard memory limits.
const raceDetector = true
