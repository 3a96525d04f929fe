//go:build !unix

package worker

import (
	"errors"
	"io"
)

// Socket is the edge-worker socket, which needs a Unix system.
type Socket struct{ io.ReadWriteCloser }

// NewSocket fails: plugin workers run on Unix systems only.
func NewSocket(fd int, name string) (*Socket, error) {
	return nil, errors.New("plugin workers need a Unix system: run the edge on Linux")
}
