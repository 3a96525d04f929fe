package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// requestTimeout bounds one request, so a stuck server cannot hold a worker
// past the run.
const requestTimeout = 10 * time.Second

// target is a checked load target.
type target struct {
	// dialAddr is the loopback "ip:port" that every connection dials.
	dialAddr string
}

// checkTarget accepts only URLs whose host is a loopback IP address,
// "localhost" or a name under ".localhost", and returns the loopback
// address to dial. Names are never resolved: they are dialed at 127.0.0.1.
func checkTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("invalid URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return target{}, fmt.Errorf("invalid URL %q: scheme must be http or https", raw)
	}

	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return target{dialAddr: net.JoinHostPort("127.0.0.1", port)}, nil
	}

	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return target{}, fmt.Errorf("host %q of URL %q: %w: use 127.0.0.1, [::1], localhost or a *.localhost name", host, raw, errNotLoopback)
	}
	return target{dialAddr: net.JoinHostPort(ip.String(), port)}, nil
}

// newClient returns a client for protocol whose every connection goes to
// dialAddr, whatever the request's host, and a function that closes it.
func newClient(protocol, dialAddr string, roots *x509.CertPool) (*http.Client, func(), error) {
	switch protocol {
	case HTTP1, HTTP2:
		transport := tcpTransport(protocol, dialAddr, roots)
		client := &http.Client{Transport: transport, Timeout: requestTimeout}
		return client, transport.CloseIdleConnections, nil
	case HTTP3:
		transport := &http3.Transport{
			TLSClientConfig: tlsConfig(roots, http3.NextProtoH3),
			Dial: func(ctx context.Context, _ string, tlsConf *tls.Config, quicConf *quic.Config) (*quic.Conn, error) {
				return quic.DialAddrEarly(ctx, dialAddr, tlsConf, quicConf)
			},
		}
		client := &http.Client{Transport: transport, Timeout: requestTimeout}
		return client, func() { _ = transport.Close() }, nil
	default:
		return nil, nil, fmt.Errorf("invalid protocol %q: use h1, h2 or h3", protocol)
	}
}

// tcpTransport returns a transport for HTTP/1.1 (plain or TLS) or HTTP/2
// over TLS. Each worker keeps its own connection for HTTP/1.1, while HTTP/2
// multiplexes the workers over one connection, as browsers do.
func tcpTransport(protocol, dialAddr string, roots *x509.CertPool) *http.Transport {
	var dialer net.Dialer
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, dialAddr)
		},
		MaxIdleConnsPerHost: 1024,
	}
	protocols := new(http.Protocols)
	if protocol == HTTP2 {
		protocols.SetHTTP2(true)
		transport.TLSClientConfig = tlsConfig(roots, "h2")
	} else {
		protocols.SetHTTP1(true)
		transport.TLSClientConfig = tlsConfig(roots, "http/1.1")
	}
	transport.Protocols = protocols
	return transport
}
