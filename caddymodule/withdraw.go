package caddymodule

import (
	"net"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/internal/httpfield"
	"github.com/consentedge/consentedge/rules"
)

// Withdrawal: when a decision leaves a category denied, the endpoint expires
// the tracking cookies of that category the request carries. The request
// names both the cookies and the Host, so everything written here is bounded
// whatever it holds: a small POST must never buy a large response.
const (
	// maxWithdrawScan bounds the cookie pairs read from the request (as
	// rules' own scan: browsers send about 180 per domain).
	maxWithdrawScan = 1000
	// maxWithdrawnNames bounds the distinct names expired.
	maxWithdrawnNames = 64
	// maxCookieNameLen skips longer names: no tracker's cookie comes near.
	maxCookieNameLen = 128
	// maxCookieDomains bounds the Domain values a name is expired under,
	// besides host-only.
	maxCookieDomains = 3
	// maxExpiryBytes bounds the Set-Cookie bytes of all the expiries of one
	// response: some 60 lines of a usual name and domain, twenty tracking
	// cookies under three scopes.
	maxExpiryBytes = 6 << 10
)

// expireWithdrawn adds a Set-Cookie that expires every tracking cookie the
// request carries whose category the decision leaves denied: host-only and
// under the parent domains a page may have set it for (a cookie set with
// Domain= can only be removed with the same Domain), at Path=/. HttpOnly
// cookies, which no client-side consent tool can delete, go the same way.
// Cookies scoped to a path the endpoint's requests do not match are not
// sent to it, and so not seen. It returns how many cookies it expired.
func (h *Handler) expireWithdrawn(e *expirer, r *http.Request, chosen rules.Set) int {
	names := h.withdrawnNames(r, chosen)
	if len(names) == 0 {
		return 0
	}
	return e.expire(names, cookieDomains(r.Host))
}

// withdrawnNames lists the distinct names of the request's tracking cookies
// whose category chosen leaves denied, within the bounds above. A name that
// is no RFC 6265 token (§4.1.1: cookie-name = token) could not be written
// back in a Set-Cookie, and is skipped.
func (h *Handler) withdrawnNames(r *http.Request, chosen rules.Set) []string {
	var names []string
	pairs := 0
	for _, line := range r.Header["Cookie"] {
		for pair := range strings.SplitSeq(line, ";") {
			if pairs++; pairs > maxWithdrawScan || len(names) == maxWithdrawnNames {
				return names
			}
			name, _, ok := strings.Cut(pair, "=")
			name = strings.Trim(name, " \t")
			if !ok || len(name) > maxCookieNameLen || !httpfield.IsToken(name) || slices.Contains(names, name) {
				continue
			}
			if v := h.rules.CookieVendor(name); v != nil && !chosen.Has(v.Category) {
				names = append(names, name)
			}
		}
	}
	return names
}

// expirer writes expiring Set-Cookie lines into hdr until its byte budget
// is spent.
type expirer struct {
	hdr    http.Header
	secure bool
	budget int
}

// expire expires each name under each domain, domain by domain in the
// order given (most likely first), so that when the budget runs out what is
// left unwritten is the least likely scopes. It returns how many names got
// at least one expiry.
func (e *expirer) expire(names []string, domains []string) int {
	var done uint64 // names ≤ maxWithdrawnNames = 64
	n := 0
	for _, d := range domains {
		for i, name := range names {
			if d != "" && httpfield.HasPrefixFold(name, consent.HostCookiePrefix) {
				continue // RFC 6265bis §4.1.3.2: a __Host- cookie has no Domain
			}
			if !e.add(name, d) {
				return n
			}
			if done&(1<<i) == 0 {
				done |= 1 << i
				n++
			}
		}
	}
	return n
}

// add writes the expiry of the cookie name set for domain ("" host-only), or
// reports false when it would exceed the budget.
func (e *expirer) add(name, domain string) bool {
	// User agents following RFC 6265bis (from draft 11 on) match the cookie
	// name prefixes ASCII case-insensitively when they store a cookie.
	secure := e.secure || httpfield.HasPrefixFold(name, "__Secure-") || httpfield.HasPrefixFold(name, consent.HostCookiePrefix)
	line := expiryLine(name, domain, secure)
	if len(line) > e.budget {
		e.budget = 0
		return false
	}
	e.budget -= len(line)
	e.hdr.Add("Set-Cookie", line)
	return true
}

// expiryLine is a Set-Cookie that removes the cookie name set for domain at
// Path=/: Max-Age=0 (RFC 6265 §5.2.2), and an Expires in the past for
// clients that predate Max-Age. It is written here, not by net/http's
// Cookie.String, because that logs what it drops to the process's standard
// logger, outside the configured log; name is a token and domain a checked
// host name, so there is nothing to drop.
func expiryLine(name, domain string, secure bool) string {
	var b strings.Builder
	b.Grow(len(name) + len(domain) + 90)
	b.WriteString(name)
	b.WriteString("=; Path=/")
	if domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(domain)
	}
	b.WriteString("; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
	if secure {
		b.WriteString("; Secure")
	}
	return b.String()
}

// cookieDomains lists the Domain attributes under which the site's pages may
// have set a cookie, most likely first: "" (host-only), the registrable
// domain (the public suffix list's eTLD+1, where analytics tags set theirs),
// the host itself, then the parents between, nearest the registrable domain
// first; at most maxCookieDomains Domain values. A Host that is an IP
// address, a public suffix or no valid host name has host-only cookies only.
func cookieDomains(hostport string) []string {
	out := []string{""}
	host, ok := cookieHost(hostport)
	if !ok || !strings.Contains(host, ".") {
		return out
	}
	site, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return out
	}
	out = append(out, site)
	if host == site {
		return out
	}
	out = append(out, host)
	below := strings.TrimSuffix(host, "."+site) // the labels under site
	for d := site; len(out) < 1+maxCookieDomains; {
		i := strings.LastIndexByte(below, '.')
		if i < 0 {
			break // one label left: d's child is the host itself
		}
		d = below[i+1:] + "." + d
		below = below[:i]
		out = append(out, d)
	}
	return out
}

// cookieHost is the host name of a Host header value, lowercased, without
// port or trailing dot, and whether it can scope a cookie: a host name of
// LDH labels (RFC 1123 §2.1: letters, digits and inner hyphens, 1-63 each,
// at most 253 in all), not an IP address.
func cookieHost(hostport string) (string, bool) {
	if len(hostport) > 253+len(".:65535") {
		return "", false
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if len(host) == 0 || len(host) > 253 || net.ParseIP(host) != nil {
		return "", false
	}
	for label := range strings.SplitSeq(host, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	return host, true
}
