package hostsvc

import (
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"portcullis.dev/tenants/netguard"
)

// MaxResponseHeaderBytes is the maximum size of an outbound response's
// headers that the edge reads, on HTTP/1 and HTTP/2. The default of Go
// 1.26's http.Transport is 10 MiB, which lets one tenant's plugin raise the
// edge's memory for every tenant.
const MaxResponseHeaderBytes = 64 << 10

// outboundAllowSetting names the operator setting that allows blocked
// networks, for the errors that plugins and operators read.
const outboundAllowSetting = "--plugin-outbound-allow (env PORTCULLIS_PLUGIN_OUTBOUND_ALLOW)"

// Option configures Services.
type Option func(*Services)

// WithOutboundAllow lets plugins' outbound requests reach the addresses in
// networks, which the edge otherwise blocks because they are not public
// (see netguard.Class). The edge checks the address it dials, so an entry
// such as 10.0.0.0/8 covers every host name that resolves into it.
func WithOutboundAllow(networks []netip.Prefix) Option {
	return func(s *Services) {
		s.outboundGuard.Networks = append(s.outboundGuard.Networks, netguard.Masked(networks)...)
	}
}

// BlockedAddressError is the error of an outbound request whose resolved
// destination is an address that plugins may not reach.
type BlockedAddressError = netguard.BlockedError

// checkDestination returns a *BlockedAddressError when plugins may not
// reach address, an "IP:port" that the dialer is about to connect to.
func (s *Services) checkDestination(network, address string, conn syscall.RawConn) error {
	return s.outboundGuard.Control(network, address, conn)
}

// newOutboundClient returns the client of plugins' outbound requests. It
// follows no redirect, so a redirect cannot lead a plugin past its allowed
// hosts. Its dialer checks each address it connects to, after DNS, so
// neither a DNS answer nor a host name can reach a blocked network. It
// connects directly, ignoring HTTP_PROXY and HTTPS_PROXY, because through
// a proxy the dialer would check the proxy's address instead of the
// destination's.
func (s *Services) newOutboundClient() *http.Client {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: s.checkDestination}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.DialContext = dialer.DialContext
	transport.MaxResponseHeaderBytes = MaxResponseHeaderBytes

	return &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
