package caddymodule

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/internal/httpfield"
	"github.com/consentedge/consentedge/rules"
)

// The consent cookie's strength: when it is Secure, and when it is named
// with the __Host- prefix, which a browser stores only if it is Secure, at
// Path=/ and without Domain (RFC 6265bis §4.1.3.2): no sibling subdomain,
// and no page over plain HTTP, can then set it for the site.

// cookie_secure values.
const (
	cookieSecureAuto = "auto" // Secure when the request came over HTTPS
	cookieSecureOn   = "on"   // always: the site is HTTPS, whatever the proxy says
	cookieSecureOff  = "off"  // never
)

// requestHTTPS reports whether the request reached the site over HTTPS: TLS
// to Caddy, or X-Forwarded-Proto: https from a proxy in the server's
// trusted_proxies, which Caddy marks in the request's vars. From any other
// peer the header is the client's own word, and not taken. The first
// value counts: it is the one the proxy nearest the client wrote.
func requestHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool); !trusted {
		return false
	}
	vals := r.Header["X-Forwarded-Proto"]
	if len(vals) == 0 {
		return false
	}
	first, _, _ := strings.Cut(vals[0], ",")
	return strings.EqualFold(strings.TrimSpace(first), "https")
}

// siteHTTPS reports whether the endpoint takes the page r comes from to be
// served over HTTPS: when cookie_secure is on (the operator says the site
// is), or when r came over HTTPS.
func (h *Handler) siteHTTPS(r *http.Request) bool {
	return h.CookieSecure == cookieSecureOn || requestHTTPS(r)
}

// secureCookie reports whether the consent cookie set in answer to r is
// Secure.
func (h *Handler) secureCookie(r *http.Request) bool {
	return h.CookieSecure != cookieSecureOff && h.siteHTTPS(r)
}

// hostPrefixWanted reports whether the consent cookie takes the __Host-
// prefix where it is Secure: as cookie_host_prefix says, by default when
// the endpoint writes it (without the endpoint the site's own code writes
// it, under the name it chose). A name that already has a prefix keeps it.
func (h *Handler) hostPrefixWanted() bool {
	if httpfield.HasPrefixFold(h.Cookie, consent.HostCookiePrefix) || httpfield.HasPrefixFold(h.Cookie, "__Secure-") {
		return false
	}
	if h.CookieHostPrefix != nil {
		return *h.CookieHostPrefix
	}
	return h.Endpoint != ""
}

// hostPrefixed reports whether, for r, the consent cookie is written and
// read under its __Host- name only: an unprefixed cookie could have been
// set by a sibling subdomain, and grants nothing.
func (h *Handler) hostPrefixed(r *http.Request) bool {
	return h.hostPrefixWanted() && h.secureCookie(r)
}

// consentCookieName is the consent cookie's name for r.
func (h *Handler) consentCookieName(r *http.Request) string {
	if h.hostPrefixed(r) {
		return consent.HostCookiePrefix + h.Cookie
	}
	return h.Cookie
}

// consentConfig is how this handler reads consent for r.
func (h *Handler) consentConfig(r *http.Request) consent.Config {
	cfg := h.cfg
	cfg.HostPrefix = h.hostPrefixed(r)
	return cfg
}

// validateCookieStrength checks cookie_secure and cookie_host_prefix
// against each other and the cookie's name: a browser stores a __Host- or
// __Secure- cookie only when it is Secure.
func (h *Handler) validateCookieStrength() error {
	switch h.CookieSecure {
	case cookieSecureAuto, cookieSecureOn, cookieSecureOff:
	default:
		return fmt.Errorf("consent: cookie_secure must be %q, %q or %q, got %q", cookieSecureAuto, cookieSecureOn, cookieSecureOff, h.CookieSecure)
	}
	if h.CookieSecure != cookieSecureOff {
		return nil
	}
	if h.CookieHostPrefix != nil && *h.CookieHostPrefix {
		return fmt.Errorf("consent: cookie_host_prefix on needs a Secure cookie, and cookie_secure is off")
	}
	if httpfield.HasPrefixFold(h.Cookie, consent.HostCookiePrefix) || httpfield.HasPrefixFold(h.Cookie, "__Secure-") {
		return fmt.Errorf("consent: cookie %s must be Secure, and cookie_secure is off", h.Cookie)
	}
	return nil
}

// setConsentCookie records chosen in the consent cookie, under the policy
// version, and expires what the decision withdraws. Where the cookie is
// __Host- prefixed, a cookie of the bare name the request carries is
// expired too: it is no longer read, and whether it was ours from before
// the prefix or planted, it should not linger. It returns the cookie and
// how many tracking cookies it expired.
func (h *Handler) setConsentCookie(hdr http.Header, r *http.Request, chosen rules.Set) (*http.Cookie, int) {
	secure := h.secureCookie(r)
	cookie := &http.Cookie{
		Name:     h.consentCookieName(r),
		Value:    h.consent.Format(chosen, h.PolicyVersion),
		Path:     "/",
		MaxAge:   int(time.Duration(h.ConsentMaxAge) / time.Second),
		SameSite: http.SameSiteLaxMode,
		Secure:   secure,
	}
	// The name is a token (Validate) and the value ids and a marker, so
	// Cookie.String has nothing to drop and nothing to log.
	hdr.Add("Set-Cookie", cookie.String())
	e := expirer{hdr: hdr, secure: secure, budget: maxExpiryBytes}
	if cookie.Name != h.Cookie && carriesCookie(r, h.Cookie) {
		e.expire([]string{h.Cookie}, cookieDomains(r.Host))
	}
	return cookie, h.expireWithdrawn(&e, r, chosen)
}

// carriesCookie reports whether r carries a cookie named name.
func carriesCookie(r *http.Request, name string) bool {
	found := false
	consent.ScanCookies(r.Header, name, func(string) bool {
		found = true
		return false
	})
	return found
}
