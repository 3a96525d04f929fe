//go:build !race

package worker

// raceDetector is true in builds with the race detector.
const raceDetector = false
