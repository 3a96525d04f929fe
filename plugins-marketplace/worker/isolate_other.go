//go:build !linux

package worker

// isolate does nothing outside Linux.
//
// NOTE: outside Linux a worker keeps every descriptor it inherited, and
// an exec from it may gain privileges through a set-user-ID binary.
func isolate(socket int) error {
	return nil
}
