package edge

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync"

	"golang.org/x/net/http/httpguts"
)

// tunnels is the set of client connections that HTTP/1.1 upgrade requests
// hijacked, such as WebSocket tunnels. net/http stops tracking a connection
// once it is hijacked, so http.Server.Shutdown neither waits for these nor
// closes them, and the drain does both here. It is safe for concurrent use.
type tunnels struct {
	mu    sync.Mutex
	conns map[*tunnelConn]struct{}
	// empty is closed when the set becomes empty, and replaced when it
	// gains a member again.
	empty chan struct{}
	// closed is set by closeAll. From then on, add closes each newly
	// hijacked connection at once, because the edge is stopping.
	closed bool
}

// track returns w, or for an HTTP/1.1 upgrade request a writer whose
// Hijack adds the connection to the set until it is closed.
func (t *tunnels) track(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if r.ProtoMajor != 1 || !httpguts.HeaderValuesContainsToken(r.Header["Connection"], "upgrade") {
		return w
	}
	return &tunnelWriter{ResponseWriter: w, tunnels: t}
}

func (t *tunnels) add(conn *tunnelConn) {
	t.mu.Lock()
	closed := t.closed
	if !closed {
		if t.conns == nil {
			t.conns = map[*tunnelConn]struct{}{}
		}
		if len(t.conns) == 0 {
			t.empty = make(chan struct{})
		}
		t.conns[conn] = struct{}{}
	}
	t.mu.Unlock()

	if closed {
		_ = conn.Close()
	}
}

func (t *tunnels) remove(conn *tunnelConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.conns[conn]; !ok {
		return
	}
	delete(t.conns, conn)
	if len(t.conns) == 0 {
		close(t.empty)
	}
}

// open returns the number of tunnels open.
func (t *tunnels) open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// wait blocks until no tunnel is open or ctx is done.
func (t *tunnels) wait(ctx context.Context) {
	for {
		t.mu.Lock()
		if len(t.conns) == 0 {
			t.mu.Unlock()
			return
		}
		empty := t.empty
		t.mu.Unlock()

		// A tunnel may open after empty is closed, so the loop checks
		// again.
		select {
		case <-empty:
		case <-ctx.Done():
			return
		}
	}
}

// closeAll closes every open tunnel, and every tunnel hijacked from now
// on, and returns how many were open.
func (t *tunnels) closeAll() int {
	t.mu.Lock()
	t.closed = true
	open := make([]*tunnelConn, 0, len(t.conns))
	for conn := range t.conns {
		open = append(open, conn)
	}
	t.mu.Unlock()

	for _, conn := range open {
		_ = conn.Close()
	}
	return len(open)
}

// tunnelWriter is the response writer of an HTTP/1.1 upgrade request.
type tunnelWriter struct {
	http.ResponseWriter
	tunnels *tunnels
}

// Hijack hijacks the client connection through the wrapped writer and adds
// it to the tunnel set.
func (w *tunnelWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	tracked := &tunnelConn{Conn: conn, tunnels: w.tunnels}
	w.tunnels.add(tracked)
	return tracked, rw, nil
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *tunnelWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// tunnelConn is a hijacked client connection that leaves the tunnel set
// when it is closed.
type tunnelConn struct {
	net.Conn
	tunnels *tunnels
	once    sync.Once
	err     error
}

func (c *tunnelConn) Close() error {
	c.once.Do(func() {
		c.err = c.Conn.Close()
		c.tunnels.remove(c)
	})
	return c.err
}

// drainTunnels waits for the open tunnels to close until ctx is done, then
// closes the ones still open and logs how many. Call it after the HTTP/1.1
// servers have shut down, so no handler is left that could hijack another
// connection.
func (e *Edge) drainTunnels(ctx context.Context) {
	e.servers.tunnels.wait(ctx)
	if closed := e.servers.tunnels.closeAll(); closed > 0 {
		e.log.Warn("drain ended; closed the WebSocket tunnels still open", "open_tunnels", closed)
	}
}
