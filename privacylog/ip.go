package privacylog

import (
	"net"
	"net/netip"
	"strings"
)

// TruncateIP returns addr with the host part zeroed, for logs that must not
// identify anyone: IPv4 keeps its /24, IPv6 its /48 (the prefixes Google
// Analytics' IP anonymisation keeps). It accepts a bare
// address, host:port, [v6]:port, [v6] and zoned addresses; zones and ports
// are dropped. Anything else yields "", never the input.
//
// Caddy's ip_mask log filter is not used: with a family unset it logs
// "<nil>", and bracketed, zoned and 6to4 addresses leak through it.
func TruncateIP(addr string) string {
	return TruncateIPPrefix(addr, DefaultIPv4Prefix, DefaultIPv6Prefix)
}

// The prefixes the policy keeps.
const (
	DefaultIPv4Prefix = 24
	DefaultIPv6Prefix = 48
)

// TruncateIPPrefix is TruncateIP with the kept prefix lengths as parameters
// (the privacy log encoder lets operators keep less). v4 applies to IPv4
// and IPv4-mapped addresses and to the IPv4 address a 6to4 address embeds;
// v6 to every other IPv6 address.
func TruncateIPPrefix(addr string, v4, v6 int) string {
	ip, ok := ParseIP(addr)
	if !ok {
		return ""
	}
	// ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket; its /48
	// would keep the whole IPv4 address.
	ip = ip.Unmap()
	if ip.Is4() {
		p, _ := ip.Prefix(v4)
		return p.Addr().String()
	}
	keep := v6
	if b := ip.As16(); b[0] == 0x20 && b[1] == 0x02 {
		// 6to4 (RFC 3056): 2002:AABB:CCDD::/48 embeds the client's IPv4
		// address in bits 16–48, all inside the /48; cut it to its v4
		// prefix.
		keep = min(keep, 16+v4)
	}
	p, _ := ip.Prefix(keep)
	return p.Addr().String()
}

// ParseIP reads an address as logs and headers carry it: bare,
// host:port, [v6]:port, [v6], with or without an RFC 6874 zone, which it
// drops.
func ParseIP(addr string) (netip.Addr, bool) {
	host := strings.TrimSpace(addr)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	// RFC 6874 zone ids are local interface names; they say nothing we may
	// keep and netip would carry them into the output.
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	ip, err := netip.ParseAddr(host)
	return ip, err == nil
}
