package listen

import (
	"crypto/tls"
	"net"
	"slices"
)

// TLSFraming wraps a TCP listener: each connection ends TLS with config and
// then passes the plaintext through the checks of Framing, so HTTPS gets the
// same request framing checks as plain HTTP/1.1. A connection whose client
// chose HTTP/2 passes unchecked after the HTTP/2 preface.
//
// The server gets connections that are not *tls.Conn, so it must serve
// them with http.Server.Serve, accept HTTP/2 with prior knowledge
// (http.Protocols.SetUnencryptedHTTP2) for the clients that chose "h2" by
// ALPN, and restore http.Request.TLS from TLSConn. When config offers no
// ALPN protocols, the listener offers "h2" and "http/1.1".
func TLSFraming(inner net.Listener, config *tls.Config, maxHeaderBytes int, onReject func(remote string, err error)) net.Listener {
	config = config.Clone()
	if len(config.NextProtos) == 0 {
		config.NextProtos = []string{"h2", "http/1.1"}
	}
	if !slices.Contains(config.NextProtos, "http/1.1") {
		config.NextProtos = append(config.NextProtos, "http/1.1")
	}
	return Framing(tls.NewListener(inner, config), maxHeaderBytes, onReject)
}

// TLSConn returns the TLS connection under a connection that TLSFraming
// accepted.
func TLSConn(conn net.Conn) (*tls.Conn, bool) {
	framed, ok := conn.(*framingConn)
	if !ok {
		return nil, false
	}
	tlsConn, ok := framed.Conn.(*tls.Conn)
	return tlsConn, ok
}
