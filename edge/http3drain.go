package edge

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// Limits of the HTTP/3 drain.
const (
	// http3IdleCloseAfter is how long an HTTP/3 connection must have had
	// no request in flight before a drain closes it. The wait lets the
	// tail of the last response leave the send buffer first.
	http3IdleCloseAfter = time.Second
	// http3IdleCheckInterval is how often a drain looks for idle HTTP/3
	// connections.
	http3IdleCheckInterval = 100 * time.Millisecond
)

// http3Conns tracks the open HTTP/3 connections and their requests in
// flight. quic-go's graceful shutdown sends GOAWAY and then waits for each
// client to close its connection, so a client that keeps an idle
// connection open, as quic-go's own client can after a reset stream, holds
// the drain until its deadline. The drain closes such connections itself.
type http3Conns struct {
	mu    sync.Mutex
	conns map[*quic.Conn]*http3ConnState
}

type http3ConnState struct {
	inFlight int
	lastEnd  time.Time
}

type http3ConnKey struct{}

// track registers conn until it closes and returns ctx with conn in it.
// Use it in http3.Server.ConnContext.
func (c *http3Conns) track(ctx context.Context, conn *quic.Conn) context.Context {
	c.mu.Lock()
	if c.conns == nil {
		c.conns = map[*quic.Conn]*http3ConnState{}
	}
	c.conns[conn] = &http3ConnState{lastEnd: time.Now()}
	c.mu.Unlock()

	context.AfterFunc(conn.Context(), func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.conns, conn)
	})
	return context.WithValue(ctx, http3ConnKey{}, conn)
}

// wrap counts the requests in flight on each connection.
func (c *http3Conns) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _ := r.Context().Value(http3ConnKey{}).(*quic.Conn)
		c.begin(conn)
		defer c.end(conn)
		next.ServeHTTP(w, r)
	})
}

func (c *http3Conns) begin(conn *quic.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if state, ok := c.conns[conn]; ok {
		state.inFlight++
	}
}

func (c *http3Conns) end(conn *quic.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if state, ok := c.conns[conn]; ok {
		state.inFlight--
		state.lastEnd = time.Now()
	}
}

// closeIdleUntil closes, every http3IdleCheckInterval until done, the
// connections that have had no request in flight for http3IdleCloseAfter,
// with H3_NO_ERROR (RFC 9114 section 8.1). Call it after GOAWAY went out,
// so clients do not send new requests on them.
func (c *http3Conns) closeIdleUntil(done <-chan struct{}) {
	ticker := time.NewTicker(http3IdleCheckInterval)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			return
		case <-ticker.C:
			c.closeIdle(time.Now())
		}
	}
}

func (c *http3Conns) closeIdle(now time.Time) {
	c.mu.Lock()
	var idle []*quic.Conn
	for conn, state := range c.conns {
		if state.inFlight == 0 && now.Sub(state.lastEnd) >= http3IdleCloseAfter {
			idle = append(idle, conn)
		}
	}
	c.mu.Unlock()

	for _, conn := range idle {
		_ = conn.CloseWithError(quic.ApplicationErrorCode(http3.ErrCodeNoError), "server shutting down")
	}
}
