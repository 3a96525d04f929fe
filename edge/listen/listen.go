// Package listen binds the edge's sockets and counts their open
// connections.
package listen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
)

// DefaultPairAttempts is how many ports Pair tries when addr has port 0.
const DefaultPairAttempts = 10

// Pair binds TCP and UDP on the same address, for HTTPS and HTTP/3 on one
// port. When addr has port 0, it binds TCP on a free port and then UDP on
// that port number, and tries a new port up to attempts times while UDP is
// taken. Zero attempts means DefaultPairAttempts.
func Pair(addr string, attempts int) (net.Listener, *net.UDPConn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("address %q is invalid: %w", addr, err)
	}
	if port != "0" {
		attempts = 1
	}
	if attempts <= 0 {
		attempts = DefaultPairAttempts
	}

	var lastErr error
	for range attempts {
		tcp, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen on TCP %q: %w", addr, err)
		}

		bound := tcp.Addr().(*net.TCPAddr).Port
		udpAddr, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, strconv.Itoa(bound)))
		if err != nil {
			_ = tcp.Close()
			return nil, nil, fmt.Errorf("resolve UDP address for %q: %w", addr, err)
		}

		udp, err := net.ListenUDP("udp", udpAddr)
		if err == nil {
			return tcp, udp, nil
		}
		_ = tcp.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("listen on UDP for %q after %d attempts: %w", addr, attempts, lastErr)
}

// Counter counts open connections of one server. It is safe for concurrent
// use.
type Counter struct {
	open atomic.Int64
}

// ConnState tracks a TCP connection; use it as http.Server.ConnState. A
// hijacked connection counts as closed, because the server no longer
// manages it.
func (c *Counter) ConnState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		c.open.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.open.Add(-1)
	}
}

// Track counts a connection that stays open until ctx is done, such as a
// QUIC connection with its Context.
func (c *Counter) Track(ctx context.Context) {
	c.open.Add(1)
	context.AfterFunc(ctx, func() {
		c.open.Add(-1)
	})
}

// Open returns the number of open connections.
func (c *Counter) Open() int64 {
	return c.open.Load()
}
