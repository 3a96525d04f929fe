package edge

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"

	"portcullis.dev/edge/listen"
)

type tlsConnKey struct{}

// rememberTLSConn stores the TLS connection under conn in the connection's
// context. Use it as http.Server.ConnContext for listen.TLSFraming.
func rememberTLSConn(ctx context.Context, conn net.Conn) context.Context {
	if tlsConn, ok := listen.TLSConn(conn); ok {
		return context.WithValue(ctx, tlsConnKey{}, tlsConn)
	}
	return ctx
}

// withTLSState sets http.Request.TLS from the connection that
// rememberTLSConn stored, because net/http sets it only on the *tls.Conn
// connections that it ends TLS on itself.
func withTLSState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tlsConn, ok := r.Context().Value(tlsConnKey{}).(*tls.Conn); ok && r.TLS == nil {
			state := tlsConn.ConnectionState()
			r = r.WithContext(r.Context())
			r.TLS = &state
		}
		next.ServeHTTP(w, r)
	})
}
