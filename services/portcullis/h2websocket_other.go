//go:build !linux

package main

// enableH2WebSocket does nothing outside Linux, where the process is not
// re-executed (see h2websocket_linux.go). WebSocket over HTTP/2 there
// needs GODEBUG=http2xconnect=1 in the environment at start.
func enableH2WebSocket([]string) error {
	return nil
}
