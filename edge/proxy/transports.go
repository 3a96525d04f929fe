package proxy

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"portcullis.dev/edge/balancer"
	"portcullis.dev/tenants/config"
	"portcullis.dev/tenants/netguard"
)

// Defaults for TransportOptions fields left zero.
const (
	DefaultDialTimeout           = config.DefaultConnectTimeout
	DefaultResponseHeaderTimeout = 60 * time.Second
	DefaultIdleConnsPerHost      = 64
	// DefaultTLSHandshakeTimeout bounds a TLS handshake with a target.
	DefaultTLSHandshakeTimeout = 10 * time.Second
)

// MaxUpstreamHeaderBytes bounds an upstream response's header, which the
// edge holds in memory and, for a sandboxed header_filter, sends to a plugin
// worker in one frame below worker.MaxFrame. A larger header is a 502.
const MaxUpstreamHeaderBytes = 1 << 20

// TransportOptions are the edge-wide defaults of the upstream transports.
// A route's timeouts override the first two.
type TransportOptions struct {
	// DialTimeout bounds the TCP connect to a target. Zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a target's response header
	// after the request is sent. Zero means DefaultResponseHeaderTimeout.
	ResponseHeaderTimeout time.Duration
	// IdleConnsPerHost is the keep-alive pool size per target. Zero means
	// DefaultIdleConnsPerHost.
	IdleConnsPerHost int
	// Guard checks each address that a connection to a target, or an
	// active health check's probe, is about to reach, after DNS. Nil
	// lets them reach every address.
	Guard *netguard.Guard
}

func (o *TransportOptions) fillDefaults() {
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ResponseHeaderTimeout <= 0 {
		o.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if o.IdleConnsPerHost <= 0 {
		o.IdleConnsPerHost = DefaultIdleConnsPerHost
	}
}

// transportKey names one pool of connections: an upstream of a tenant with
// one protocol, TLS config and idle timeout.
type transportKey struct {
	tenant   string
	upstream string
	protocol string
	tlsID    string
	idle     time.Duration
}

// transports holds one http.Transport per transportKey, so each upstream
// keeps its connections across config reloads while its settings stay the
// same.
type transports struct {
	opts TransportOptions

	mu    sync.RWMutex
	pools map[transportKey]*http.Transport
}

func newTransports(opts TransportOptions) *transports {
	return &transports{opts: opts, pools: map[transportKey]*http.Transport{}}
}

// get returns the transport for an upstream and idle timeout, creating it
// on first use.
func (t *transports) get(upstream *balancer.Upstream, idle time.Duration) *http.Transport {
	key := transportKey{tenant: upstream.Tenant, upstream: upstream.Name, protocol: upstream.Protocol, tlsID: upstream.TLSID, idle: idle}

	t.mu.RLock()
	pool, ok := t.pools[key]
	t.mu.RUnlock()
	if ok {
		return pool
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if pool, ok := t.pools[key]; ok {
		return pool
	}
	pool = newTransport(upstream.Protocol, upstream.TLS, idle, t.opts)
	t.pools[key] = pool
	return pool
}

// retain closes and drops the tenant's transports whose upstream,
// protocol or TLS config is not in live.
func (t *transports) retain(tenant string, live map[transportKey]bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for key, pool := range t.pools {
		bare := key
		bare.idle = 0
		if key.tenant == tenant && !live[bare] {
			pool.CloseIdleConnections()
			delete(t.pools, key)
		}
	}
}

func (t *transports) closeIdle() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, pool := range t.pools {
		pool.CloseIdleConnections()
	}
}

// newTransport returns a transport for one protocol. It ignores proxy
// environment variables, because targets are reached directly, and leaves
// the response header timeout to the round tripper, which applies the
// route's.
func newTransport(protocol string, tlsConfig *tls.Config, idle time.Duration, opts TransportOptions) *http.Transport {
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer(opts.DialTimeout, opts.Guard),
		MaxIdleConns:           16 * opts.IdleConnsPerHost,
		MaxIdleConnsPerHost:    opts.IdleConnsPerHost,
		IdleConnTimeout:        idle,
		TLSHandshakeTimeout:    DefaultTLSHandshakeTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: MaxUpstreamHeaderBytes,
		// The client's Accept-Encoding reaches the upstream as sent, and
		// a compressed response reaches the client compressed.
		DisableCompression: true,
	}
	if tlsConfig != nil {
		transport.TLSClientConfig = tlsConfig.Clone()
	}

	// Only HTTP/1.1 connections need the Connection fields recorded (see
	// RecordConnectionFields). The TLS dialer offers the ALPN protocols
	// that net/http would: none for HTTP/1.1 only, else h2 and http/1.1.
	if protocol != config.ProtocolH2 && protocol != config.ProtocolH2C {
		var alpn []string
		if protocol != config.ProtocolHTTP1 {
			alpn = []string{"h2", "http/1.1"}
		}
		plain := transport.DialContext
		transport.DialContext = RecordConnectionFields(plain)
		transport.DialTLSContext = dialRecordingTLS(plain, tlsConfig, alpn, transport.TLSHandshakeTimeout)
	}

	protocols := new(http.Protocols)
	switch protocol {
	case config.ProtocolHTTP1:
		protocols.SetHTTP1(true)
	case config.ProtocolH2:
		protocols.SetHTTP2(true)
	case config.ProtocolH2C:
		protocols.SetUnencryptedHTTP2(true)
	default:
		protocols.SetHTTP1(true)
		protocols.SetHTTP2(true)
	}
	transport.Protocols = protocols
	return transport
}

type connectTimeoutKey struct{}

// withConnectTimeout returns a context whose dials time out after timeout.
func withConnectTimeout(ctx context.Context, timeout time.Duration) context.Context {
	return context.WithValue(ctx, connectTimeoutKey{}, timeout)
}

// dialer returns a DialContext that applies the connect timeout from the
// request context, or fallback, checks each address with guard unless it
// is nil, and wraps failures in *DialError.
func dialer(fallback time.Duration, guard *netguard.Guard) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var control func(network, address string, conn syscall.RawConn) error
	if guard != nil {
		control = guard.Control
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		timeout, ok := ctx.Value(connectTimeoutKey{}).(time.Duration)
		if !ok || timeout <= 0 {
			timeout = fallback
		}

		d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: control}
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, &DialError{Addr: addr, Err: err}
		}
		return conn, nil
	}
}
