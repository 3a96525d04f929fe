package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"
)

// http1OnlyKey marks a request context whose new TLS connections must not
// offer HTTP/2, because the request is a WebSocket handshake. net/http's
// transport pools such connections apart and, with its own TLS dialer,
// sends no ALPN for them.
type http1OnlyKey struct{}

// markHTTP1Only returns out with a context that makes dialRecordingTLS
// offer no ALPN protocols when out carries an Upgrade header. The check is
// wider than net/http's, which pools only WebSocket handshakes apart: a
// wider check at worst keeps a connection on HTTP/1.1, but a narrower one
// would negotiate HTTP/2 for an upgrade and fail it.
func markHTTP1Only(out *http.Request) *http.Request {
	if out.Header.Get("Upgrade") == "" {
		return out
	}
	return out.WithContext(context.WithValue(out.Context(), http1OnlyKey{}, true))
}

func isHTTP1Only(ctx context.Context) bool {
	only, _ := ctx.Value(http1OnlyKey{}).(bool)
	return only
}

// dialRecordingTLS returns a DialTLSContext for the https:// targets of an
// upstream that may speak HTTP/1.1. It dials with dial and runs the TLS
// handshake with base, as net/http's transport would, and bounds the
// handshake by handshakeTimeout, which the transport does not apply to a
// custom dialer. An HTTP/1.1 connection is wrapped so that it records its
// Connection fields (see RecordConnectionFields). An h2 connection is
// returned as the bare *tls.Conn, because net/http (Go 1.26) switches to
// HTTP/2 only on a *tls.Conn whose ALPN protocol is "h2".
//
// alpn is the ALPN list to offer: nil for HTTP/1.1 only, which matches
// net/http when HTTP/2 is off.
func dialRecordingTLS(dial DialContext, base *tls.Config, alpn []string, handshakeTimeout time.Duration) DialContext {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		config, err := clientConfig(base, alpn, addr, isHTTP1Only(ctx))
		if err != nil {
			return nil, err
		}
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}

		conn := tls.Client(raw, config)
		handshakeCtx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		defer cancel()
		if err := conn.HandshakeContext(handshakeCtx); err != nil {
			_ = raw.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}

		if conn.ConnectionState().NegotiatedProtocol == "h2" {
			return conn, nil
		}
		return &tlsRecordingConn{recordingConn: &recordingConn{Conn: conn}, tls: conn}, nil
	}
}

// clientConfig returns the TLS config of one connection to addr: base with
// the ALPN list, and the host of addr as server name when base sets none.
func clientConfig(base *tls.Config, alpn []string, addr string, http1Only bool) (*tls.Config, error) {
	config := &tls.Config{}
	if base != nil {
		config = base.Clone()
	}

	if config.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("target address %q has no port: %w", addr, err)
		}
		config.ServerName = host
	}

	config.NextProtos = alpn
	if http1Only {
		config.NextProtos = nil
	}
	return config, nil
}

// tlsRecordingConn is a recordingConn over TLS. It keeps the
// ConnectionState method of *tls.Conn for code that reads the TLS state
// through an interface, although net/http's transport only reads it from a
// *tls.Conn and so reports no TLS state on responses it reads from this
// connection.
type tlsRecordingConn struct {
	*recordingConn
	tls *tls.Conn
}

// ConnectionState returns the state of the TLS connection.
func (c *tlsRecordingConn) ConnectionState() tls.ConnectionState {
	return c.tls.ConnectionState()
}
