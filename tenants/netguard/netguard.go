// Package netguard decides which network addresses the edge may connect
// to on a tenant's behalf. Tenants choose the hosts that their upstreams
// and plugins reach, so without a check they could reach the edge's own
// admin listener, the portal, Redis or a cloud metadata service through
// the edge. A Guard checks the address that a dialer is about to connect
// to, after DNS, so no host name or DNS answer gets past it.
package netguard

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"
)

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
	// updates) that are not public destinations. IPv4: the IETF protocol
	// assignments, the documentation ranges (RFC 5737), the deprecated
	// 6to4 relay anycast (RFC 7526), benchmarking, and reserved class E
	// with the broadcast address. IPv6: documentation (RFC 3849), the
	// local-use NAT64 prefix (RFC 8215), the forms that carry an IPv4
	// address (6to4, RFC 3056; Teredo, RFC 4380; IPv4-compatible, RFC
	// 4291; IPv4-translated, RFC 2765), the discard prefix (RFC 6666) and
	// the deprecated site-local prefix.
	reservedNetworks = []netip.Prefix{
		netip.MustParsePrefix("192.0.0.0/24"),
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("192.88.99.0/24"),
		netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("240.0.0.0/4"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("64:ff9b:1::/48"),
		netip.MustParsePrefix("2002::/16"),
		netip.MustParsePrefix("2001::/32"),
		netip.MustParsePrefix("::/96"),
		netip.MustParsePrefix("::ffff:0:0:0/96"),
		netip.MustParsePrefix("100::/64"),
		netip.MustParsePrefix("fec0::/10"),
	}
)

// Class returns the kind of a non-public address, such as "loopback", or
// "" for a public one. IPv4-mapped IPv6 addresses and IPv4 addresses in
// the NAT64 prefix count as the IPv4 address they carry.
func Class(addr netip.Addr) string {
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

// Guard lets connections reach public addresses and the non-public ones
// that the operator allowed.
type Guard struct {
	// Networks are the non-public networks that connections may reach.
	Networks []netip.Prefix
	// Addresses are single non-public IP and port pairs that connections
	// may reach, such as the demo upstream of a local server.
	Addresses []netip.AddrPort
	// Local are the addresses of this machine's network interfaces, as
	// LocalAddresses returns them. Check blocks them as "local" unless
	// Networks or Addresses allow them, so a listener bound to every
	// address is not reachable through the machine's public address.
	Local []netip.Addr
	// Subject names who may not reach a blocked address, for errors:
	// "plugins" or "upstreams".
	Subject string
	// Setting names the operator setting that allows networks, for
	// errors: "--upstream-allow (env PORTCULLIS_UPSTREAM_ALLOW)".
	Setting string
}

// Check returns a *BlockedError when address, an "IP:port" that a dialer is
// about to connect to on network, is not public and not allowed.
func (g *Guard) Check(network, address string) error {
	destination, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%s address %q is not an IP address and port: %w", network, address, err)
	}

	ip := destination.Addr().WithZone("").Unmap()
	for _, allowed := range g.Networks {
		if allowed.Contains(ip) {
			return nil
		}
	}
	for _, allowed := range g.Addresses {
		if allowed.Addr().Unmap() == ip && allowed.Port() == destination.Port() {
			return nil
		}
	}
	class := Class(ip)
	if class == "" && slices.Contains(g.Local, ip) {
		class = "local"
	}
	if class != "" {
		return &BlockedError{Address: destination, Class: class, Subject: g.Subject, Setting: g.Setting}
	}
	return nil
}

// LocalAddresses returns the addresses of this machine's network
// interfaces, as Guard.Local takes them.
func LocalAddresses() ([]netip.Addr, error) {
	interfaceAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list the addresses of the network interfaces: %w", err)
	}

	var local []netip.Addr
	for _, interfaceAddr := range interfaceAddrs {
		network, ok := interfaceAddr.(*net.IPNet)
		if !ok {
			continue
		}
		if addr, ok := netip.AddrFromSlice(network.IP); ok {
			local = append(local, addr.Unmap())
		}
	}
	return local, nil
}

// Control is Check in the form of net.Dialer.Control.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	return g.Check(network, address)
}

// BlockedError is the error of a connection to an address that the guard
// blocks.
type BlockedError struct {
	Address netip.AddrPort
	// Class is the kind of blocked address, such as "loopback".
	Class string
	// Subject and Setting are the Guard's.
	Subject, Setting string
}

func (e *BlockedError) Error() string {
	article := "a"
	if strings.ContainsAny(e.Class[:1], "aeiou") {
		article = "an"
	}
	return fmt.Sprintf("destination %s is %s %s address, which %s may not reach: the operator can allow its network with %s",
		e.Address, article, e.Class, e.Subject, e.Setting)
}

// Masked returns networks with their host bits cleared and IPv4-mapped
// IPv6 prefixes as IPv4 prefixes, as Guard.Networks compares them.
func Masked(networks []netip.Prefix) []netip.Prefix {
	masked := make([]netip.Prefix, len(networks))
	for i, network := range networks {
		if addr := network.Addr(); addr.Is4In6() && network.Bits() >= 96 {
			network = netip.PrefixFrom(addr.Unmap(), network.Bits()-96)
		}
		masked[i] = network.Masked()
	}
	return masked
}
