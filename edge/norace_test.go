//go:build !race

package edge

// raceDetector is true when the tests run with the race detector.
const raceDetector = false
