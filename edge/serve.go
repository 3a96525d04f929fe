package edge

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"

	"portcullis.dev/edge/admin"
	"portcullis.dev/edge/listen"
)

// altSvcMaxAge is the ma parameter of Alt-Svc in seconds (RFC 7838 section
// 3.1): clients may use HTTP/3 for a day without asking again.
const altSvcMaxAge = 86400

// boundListeners are the sockets Start binds before any server runs.
type boundListeners struct {
	http, https, admin net.Listener
	udp                *net.UDPConn
	quic               *quic.Listener
}

func (b *boundListeners) close() {
	if b.http != nil {
		_ = b.http.Close()
	}
	if b.https != nil {
		_ = b.https.Close()
	}
	if b.quic != nil {
		_ = b.quic.Close()
	}
	if b.udp != nil {
		_ = b.udp.Close()
	}
	if b.admin != nil {
		_ = b.admin.Close()
	}
}

// servers are the edge's listeners and the servers on them. Nil fields are
// disabled.
type servers struct {
	http, https, admin *http.Server
	h3                 *http3.Server
	h3Listener         *quic.Listener
	udp                *net.UDPConn

	httpConns, httpsConns, h3Conns listen.Counter
	// h3Requests tracks requests in flight per HTTP/3 connection, so the
	// drain can close idle ones.
	h3Requests http3Conns
	// tunnels holds the client connections of HTTP/1.1 WebSocket tunnels,
	// which the drain awaits and closes itself.
	tunnels tunnels
}

// Start binds every configured listener and serves them in the background.
// It returns once all of them accept connections, or with the first bind
// error, in which case nothing is left bound.
func (e *Edge) Start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != created {
		return errors.New("edge: Start called twice or after Shutdown")
	}

	bound, err := e.bind()
	if err != nil {
		bound.close()
		e.addrs = Addrs{}
		return err
	}

	e.serve(bound)
	e.state = started
	e.ready.Store(true)
	e.log.Info("edge started", "http", e.addrs.HTTP, "https", e.addrs.HTTPS, "http3", e.addrs.HTTP3, "admin", e.addrs.Admin)
	return nil
}

func (e *Edge) bind() (*boundListeners, error) {
	bound := &boundListeners{}
	var err error

	if e.cfg.HTTPAddr != "" {
		if bound.http, err = net.Listen("tcp", e.cfg.HTTPAddr); err != nil {
			return bound, fmt.Errorf("listen for HTTP on %q: %w (pick another with --http-addr)", e.cfg.HTTPAddr, err)
		}
		e.addrs.HTTP = bound.http.Addr().String()
	}

	if e.cfg.HTTPSAddr != "" {
		if bound.https, bound.udp, err = listen.Pair(e.cfg.HTTPSAddr, 0); err != nil {
			return bound, fmt.Errorf("listen for HTTPS and HTTP/3: %w (pick another with --https-addr)", err)
		}

		// 0-RTT data can be replayed (RFC 9001 section 9.2), and the edge
		// forwards requests of any method, so it accepts no 0-RTT.
		quicConfig := &quic.Config{Allow0RTT: false}
		if bound.quic, err = quic.Listen(bound.udp, http3.ConfigureTLSConfig(e.serverTLSConfig()), quicConfig); err != nil {
			return bound, fmt.Errorf("listen for HTTP/3 on %q: %w", bound.udp.LocalAddr(), err)
		}
		e.addrs.HTTPS = bound.https.Addr().String()
		e.httpsPort.Store(int32(bound.https.Addr().(*net.TCPAddr).Port))
		e.addrs.HTTP3 = bound.udp.LocalAddr().String()
	}

	if e.cfg.AdminAddr != "" {
		if bound.admin, err = net.Listen("tcp", e.cfg.AdminAddr); err != nil {
			return bound, fmt.Errorf("listen for admin on %q: %w (pick another with --admin-addr)", e.cfg.AdminAddr, err)
		}
		e.addrs.Admin = bound.admin.Addr().String()
	}
	return bound, nil
}

// serve starts one goroutine per server on the bound listeners.
func (e *Edge) serve(bound *boundListeners) {
	handler := e.Handler()
	s := &e.servers

	if bound.http != nil {
		protocols := new(http.Protocols)
		protocols.SetHTTP1(true)
		protocols.SetUnencryptedHTTP2(true)
		s.http = e.newServer(handler, protocols, &s.httpConns)
		guarded := listen.Framing(bound.http, e.cfg.MaxHeaderBytes, e.logRejectedFraming)
		go e.serveTCP("http", s.http, guarded)
	}

	if bound.https != nil {
		port := bound.udp.LocalAddr().(*net.UDPAddr).Port
		altSvc := `h3=":` + strconv.Itoa(port) + `"; ma=` + strconv.Itoa(altSvcMaxAge)
		e.altSvc.Store(&altSvc)

		// The TLS listener ends TLS itself so that it can check the
		// framing of HTTP/1.1 requests. The server gets plain
		// connections, so HTTP/2 arrives as prior knowledge.
		protocols := new(http.Protocols)
		protocols.SetHTTP1(true)
		protocols.SetUnencryptedHTTP2(true)
		s.https = e.newServer(withTLSState(handler), protocols, &s.httpsConns)
		s.https.ConnContext = rememberTLSConn
		guarded := listen.TLSFraming(bound.https, e.serverTLSConfig(), e.cfg.MaxHeaderBytes, e.logRejectedFraming)
		go e.serveTCP("https", s.https, guarded)

		s.h3 = &http3.Server{
			Handler:        s.h3Requests.wrap(handler),
			IdleTimeout:    e.cfg.IdleTimeout,
			MaxHeaderBytes: e.cfg.MaxHeaderBytes,
			Logger:         e.log,
			ConnContext: func(ctx context.Context, conn *quic.Conn) context.Context {
				s.h3Conns.Track(conn.Context())
				return s.h3Requests.track(ctx, conn)
			},
		}
		s.h3Listener, s.udp = bound.quic, bound.udp
		go e.serveHTTP3(s.h3, bound.quic)
	}

	if bound.admin != nil {
		s.admin = &http.Server{Handler: admin.Handler(e.ready.Load, e.metrics.Handler(), e.preflight.Handler()), ReadHeaderTimeout: DefaultReadHeaderTimeout}
		go e.serveTCP("admin", s.admin, bound.admin)
	}
}

// newServer returns a server for tenant traffic. Write timeouts are left
// off, because proxied bodies may stream for as long as the upstream sends.
func (e *Edge) newServer(handler http.Handler, protocols *http.Protocols, conns *listen.Counter) *http.Server {
	return &http.Server{
		Handler:           handler,
		Protocols:         protocols,
		ReadHeaderTimeout: e.cfg.ReadHeaderTimeout,
		IdleTimeout:       e.cfg.IdleTimeout,
		MaxHeaderBytes:    e.cfg.MaxHeaderBytes,
		ConnState:         conns.ConnState,
		ErrorLog:          newServerLog(e.log),
	}
}

func (e *Edge) serveTCP(name string, server *http.Server, listener net.Listener) {
	err := server.Serve(listener)
	if !errors.Is(err, http.ErrServerClosed) {
		e.log.Error("listener stopped", "listener", name, "addr", listener.Addr().String(), "error", err)
	}
}

func (e *Edge) serveHTTP3(server *http3.Server, listener *quic.Listener) {
	err := server.ServeListener(listener)
	if !errors.Is(err, http.ErrServerClosed) {
		e.log.Error("listener stopped", "listener", "http3", "addr", listener.Addr().String(), "error", err)
	}
}

// Shutdown stops accepting connections, marks the edge not ready and drains
// HTTP/1.1, HTTP/2 and HTTP/3 together until ctx is done. Connections still
// open then are closed and counted in the log. It returns ctx's error when
// the drain did not finish in time.
func (e *Edge) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == stopped {
		return nil
	}
	wasStarted := e.state == started
	e.state = stopped
	e.ready.Store(false)

	var err error
	if wasStarted {
		e.waitDrainDelay(ctx)
		err = e.drain(ctx)
	}

	e.store.Close()
	e.transport.Close()
	if e.sandbox != nil {
		e.sandbox.Close()
	}
	return err
}

// waitDrainDelay waits for DrainDelay while the listeners keep serving, or
// until ctx ends.
func (e *Edge) waitDrainDelay(ctx context.Context) {
	if e.cfg.DrainDelay <= 0 {
		return
	}
	e.log.Info("edge not ready; draining after the delay", "drain_delay", e.cfg.DrainDelay)

	timer := time.NewTimer(e.cfg.DrainDelay)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// drain shuts the servers down in parallel and closes the QUIC listener at
// once, then waits for the HTTP/1.1 WebSocket tunnels, which net/http no
// longer tracks, and closes the ones still open at the deadline. Last it
// closes the UDP socket and the admin server, so /readyz reports 503 for as
// long as traffic drains.
func (e *Edge) drain(ctx context.Context) error {
	s := &e.servers
	e.log.Info("edge draining", "open_connections", e.openConnections(), "open_tunnels", e.servers.tunnels.open())

	// The servers drain under a context of their own that ends right after
	// ctx does, so the connections still open at the deadline are counted
	// before the servers close them.
	drainCtx, closeNow := context.WithCancel(context.WithoutCancel(ctx))
	defer closeNow()
	stopWatch := context.AfterFunc(ctx, func() {
		e.log.Warn("drain deadline passed; closing the connections still open", "open_connections", e.openConnections())
		closeNow()
	})

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, server := range []*http.Server{s.http, s.https} {
		if server != nil {
			wg.Go(func() { errs[i] = shutdownTCP(drainCtx, server) })
		}
	}
	if s.h3 != nil {
		wg.Go(func() { errs[2] = s.h3.Shutdown(drainCtx) })

		// quic-go stops accepting only on listeners it created itself, so
		// the edge closes its own: new QUIC handshakes fail from here on,
		// while the open connections drain.
		_ = s.h3Listener.Close()
		h3Drained := make(chan struct{})
		defer close(h3Drained)
		go s.h3Requests.closeIdleUntil(h3Drained)
	}
	wg.Wait()
	e.drainTunnels(drainCtx)
	stopWatch()

	if s.h3 != nil {
		_ = s.h3Listener.Close()
		_ = s.udp.Close()
	}
	if s.admin != nil {
		errs = append(errs, shutdownTCP(drainCtx, s.admin))
	}
	e.log.Info("edge stopped")

	if ctx.Err() != nil {
		return fmt.Errorf("drain connections: %w", ctx.Err())
	}
	return errors.Join(errs...)
}

// shutdownTCP drains server, and closes it when ctx ends first.
func shutdownTCP(ctx context.Context, server *http.Server) error {
	err := server.Shutdown(ctx)
	if err != nil {
		_ = server.Close()
	}
	return err
}

func (e *Edge) openConnections() int64 {
	s := &e.servers
	return s.httpConns.Open() + s.httpsConns.Open() + s.h3Conns.Open()
}

// newServerLog routes net/http's own messages, such as TLS handshake
// failures and recovered handler panics, to logger at Warn level.
func newServerLog(logger *slog.Logger) *log.Logger {
	return slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
}

// logRejectedFraming logs a request that the framing check of the plain
// HTTP listener rejected with 400. It logs at Debug level, because any
// client can send such requests in bulk.
func (e *Edge) logRejectedFraming(remote string, err error) {
	e.log.Debug("request rejected before parsing", "remote_addr", remote, "error", err)
}
