//go:build race

package worker

// raceDetector is true in builds with the race detector, whose
// ThreadSanitizer runtime reserves far more address space than the
// worker's memory limits allow.
const raceDetector = true
