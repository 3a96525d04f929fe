//go:build !linux

package worker

import "errors"

// isolate only rejects a user to switch to outside Linux.
//
// NOTE: outside Linux a worker keeps every descriptor it inherited, and
// an exec from it may gain privileges through a set-user-ID binary.
func isolate(socket int, user *userID) error {
	if user != nil {
		return errors.New("-user works on Linux only: leave it out")
	}
	return nil
}

// LandlockABI fails: Landlock is a Linux security module.
func LandlockABI() (int, error) {
	return 0, errors.New("the Landlock security module needs Linux")
}
