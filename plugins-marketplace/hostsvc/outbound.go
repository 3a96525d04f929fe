package hostsvc

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// MaxResponseHeaderBytes is the maximum size of an outbound response's
// headers that the edge reads, on HTTP/1 and HTTP/2. The default of Go
// 1.26's http.Transport is 10 MiB, which lets one tenant's plugin raise the
// edge's memory for every tenant.
const MaxResponseHeaderBytes = 64 << 10

// outboundAllowSetting names the operator setting that allows blocked
// networks, for the errors that plugins and operators read.
const outboundAllowSetting = "--plugin-outbound-allow (env PORTCULLIS_PLUGIN_OUTBOUND_ALLOW)"

var (
	// thisNetwork is 0.0.0.0/8, "this host on this network" (RFC 791).
	// Linux connects 0.0.0.0 to the loopback interface.
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	// sharedNetwork is 100.64.0.0/10, the carrier-grade NAT range (RFC 6598).
	sharedNetwork = netip.MustParsePrefix("100.64.0.0/10")
	// nat64Network is the NAT64 well-known prefix 64:ff9b::/96 (RFC 6052),
	// whose last 32 bits are an IPv4 address that a NAT64 gateway reaches.
	nat64Network = netip.MustParsePrefix("64:ff9b::/96")
	// reservedNetworks are special-purpose ranges (RFC 6890 and its
	// updates) that are not public destinations. They are the IETF
	// protocol assignments, benchmarking, reserved class E with the
	// broadcast address, the local-use NAT64 prefix (RFC 8215), 6to4
	// (RFC 3056), whose addresses carry an IPv4 address, and the
	// deprecated IPv6 site-local prefix.
	reservedNetworks = []netip.Prefix{
		netip.MustParsePrefix("192.0.0.0/24"),
		netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("240.0.0.0/4"),
		netip.MustParsePrefix("64:ff9b:1::/48"),
		netip.MustParsePrefix("2002::/16"),
		netip.MustParsePrefix("fec0::/10"),
	}
)

// Option configures Services.
type Option func(*Services)

// WithOutboundAllow lets plugins' outbound requests reach the addresses in
// networks, which the edge otherwise blocks because they are not public
// (see blockedClass). The edge checks the address it dials, so an entry
// such as 10.0.0.0/8 covers every host name that resolves into it.
func WithOutboundAllow(networks []netip.Prefix) Option {
	return func(s *Services) {
		for _, network := range networks {
			s.outboundAllow = append(s.outboundAllow, network.Masked())
		}
	}
}

// BlockedAddressError is the error of an outbound request whose resolved
// destination is an address that plugins may not reach.
type BlockedAddressError struct {
	Address netip.AddrPort
	// Class is the kind of blocked address, such as "loopback".
	Class string
}

func (e *BlockedAddressError) Error() string {
	article := "a"
	if strings.ContainsRune("aeiou", rune(e.Class[0])) {
		article = "an"
	}
	return fmt.Sprintf("destination %s is %s %s address, which plugins may not reach: the operator can allow its network with %s",
		e.Address, article, e.Class, outboundAllowSetting)
}

// blockedClass returns the kind of address that plugins may not reach by
// default, such as "loopback", or "" for a public address. IPv4-mapped
// IPv6 addresses and IPv4 addresses in the NAT64 prefix count as the IPv4
// address they carry.
func blockedClass(addr netip.Addr) string {
	addr = addr.WithZone("").Unmap()
	if nat64Network.Contains(addr) {
		embedded := addr.As16()
		addr = netip.AddrFrom4([4]byte(embedded[12:]))
	}

	switch {
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate():
		return "private"
	case addr.IsLinkLocalUnicast():
		return "link-local"
	case addr.IsUnspecified() || thisNetwork.Contains(addr):
		return "unspecified"
	case addr.IsMulticast():
		return "multicast"
	case sharedNetwork.Contains(addr):
		return "shared (carrier-grade NAT)"
	case isReserved(addr):
		return "reserved"
	}
	return ""
}

func isReserved(addr netip.Addr) bool {
	for _, network := range reservedNetworks {
		if network.Contains(addr) {
			return true
		}
	}
	return false
}

// checkDestination returns a *BlockedAddressError when plugins may not
// reach address, an "IP:port" that the dialer is about to connect to.
func (s *Services) checkDestination(network, address string, _ syscall.RawConn) error {
	destination, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound %s address %q is not an IP address and port: %w", network, address, err)
	}

	ip := destination.Addr().WithZone("").Unmap()
	for _, allowed := range s.outboundAllow {
		if allowed.Contains(ip) {
			return nil
		}
	}
	if class := blockedClass(ip); class != "" {
		return &BlockedAddressError{Address: destination, Class: class}
	}
	return nil
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
