package privacylog

import (
	"bytes"
	"maps"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// This file decides how the privacy log encoder treats a header by its
// name: the headers it knows by name (credentials, client addresses, URIs),
// and, for every other name, rules on the words the name is made of, so
// that a CDN's or an application's own header is treated like its kin
// without being listed.

// ipHeaders carry client addresses, as comma-separated lists (single
// addresses are lists of one). Listed by name so that their treatment does
// not depend on the name rules below (X-ProxyUser-Ip holds "user").
var ipHeaders = []string{
	// De facto standards: MDN's X-Forwarded-For; nginx's realip module
	// (X-Real-Ip); the headers the request-ip library reads (X-Client-Ip,
	// X-Cluster-Client-Ip of Rackspace and Riverbed load balancers,
	// X-Forwarded, Forwarded-For); and variants seen in the wild that no
	// vendor documents (Client-Ip, X-Originating-Ip, X-Remote-Ip,
	// X-Remote-Addr, X-ProxyUser-Ip).
	"X-Forwarded-For", "X-Real-Ip", "X-Client-Ip", "X-Cluster-Client-Ip", "X-Forwarded",
	"Forwarded-For", "Client-Ip", "X-Originating-Ip", "X-Remote-Ip", "X-Remote-Addr", "X-Proxyuser-Ip",
	// Cloudflare, "Cloudflare HTTP headers": CF-Connecting-IP,
	// CF-Connecting-IPv6, CF-Pseudo-IPv4 (an address Cloudflare derives
	// from an IPv6 client's) and True-Client-IP, which Cloudflare's zone
	// setting sends for sites moving from Akamai, whose header it is.
	"Cf-Connecting-Ip", "Cf-Connecting-Ipv6", "Cf-Pseudo-Ipv4", "True-Client-Ip",
	// Fastly, HTTP header reference: Fastly-Client-IP.
	"Fastly-Client-Ip",
	// Fly.io, "Request headers": Fly-Client-IP.
	"Fly-Client-Ip",
	// Azure Front Door, "Protocol support for HTTP headers":
	// X-Azure-ClientIP and X-Azure-SocketIP.
	"X-Azure-Clientip", "X-Azure-Socketip",
	// Vercel, "Request headers": x-vercel-forwarded-for (and x-real-ip).
	"X-Vercel-Forwarded-For",
	// Envoy, "HTTP header manipulation": x-envoy-external-address.
	"X-Envoy-External-Address",
	// Google App Engine, "Request headers": X-AppEngine-User-IP.
	"X-Appengine-User-Ip",
	// ingress-nginx moves the X-Forwarded-For it receives there.
	"X-Original-Forwarded-For",
}

// credentialHeaders are dropped: the Fetch standard's credentials (which
// Caddy redacts unless should_log_credentials), whatever that setting says.
var credentialHeaders = []string{"Cookie", "Set-Cookie", "Authorization", "Proxy-Authorization"}

// headerRules is the treatment of headers by name: those known by name
// (built-in, then the configured ip_headers and drop_headers, which win),
// and those nameRule read from the words of their name, remembered for the
// next line: an access line passes a dozen headers or more, most of them
// under no rule, and nameRule takes about five times a lookup (some 300
// against 60 ns a name, BenchmarkPrivacyEncoder's headers). The map is
// copied on write, so that a lookup is a plain map read; it learns at most
// maxLearnedRules names of at most maxLearnedNameLength bytes, so that
// requests with made-up header names cannot grow it without end.
type headerRules struct {
	known atomic.Pointer[map[string]Rule] // canonical name → treatment
	fixed int                             // how many names are known by configuration
	mu    sync.Mutex                      // held while learning
}

const (
	maxLearnedRules      = 1024
	maxLearnedNameLength = 64
)

func newHeaderRules(extraIP, extraDrop []string) *headerRules {
	h := map[string]Rule{}
	for _, name := range credentialHeaders {
		h[name] = RuleDrop
	}
	for _, name := range ipHeaders {
		h[textproto.CanonicalMIMEHeaderKey(name)] = RuleIP
	}
	h["Forwarded"] = RuleForwarded
	// AWS CloudFront Developer Guide, "Add CloudFront request headers":
	// "<ip>:<port>" (198.51.100.10:46532); IPv6 addresses come
	// unbracketed.
	h["Cloudfront-Viewer-Address"] = RuleIPPort
	// RFC 9110 §10.1.2: an e-mail address for the human user.
	h["From"] = RuleDrop
	// The page a visitor came from or is sent to carries the same
	// identifiers as the request URI.
	h["Referer"] = RuleURI
	h["Location"] = RuleURI
	h["Content-Location"] = RuleURI
	for _, name := range extraIP {
		h[textproto.CanonicalMIMEHeaderKey(name)] = RuleIP
	}
	for _, name := range extraDrop {
		h[textproto.CanonicalMIMEHeaderKey(name)] = RuleDrop
	}
	hr := &headerRules{fixed: len(h)}
	hr.known.Store(&h)
	return hr
}

// rule is the treatment of the header name, in any case.
func (hr *headerRules) rule(name string) Rule {
	name = textproto.CanonicalMIMEHeaderKey(name)
	if r, ok := (*hr.known.Load())[name]; ok {
		return r
	}
	r := nameRule(name)
	hr.learn(name, r)
	return r
}

// learn remembers r for name while the bounds allow.
func (hr *headerRules) learn(name string, r Rule) {
	if len(name) > maxLearnedNameLength {
		return
	}
	hr.mu.Lock()
	defer hr.mu.Unlock()
	old := *hr.known.Load()
	if _, ok := old[name]; ok || len(old)-hr.fixed >= maxLearnedRules {
		return
	}
	m := make(map[string]Rule, len(old)+1)
	maps.Copy(m, old)
	m[strings.Clone(name)] = r
	hr.known.Store(&m)
}

// learned is how many names hr learned.
func (hr *headerRules) learned() int { return len(*hr.known.Load()) - hr.fixed }

// Words that make a header name a credential or personal data, dropped
// wherever they stand in the name, in any case: a session, token or key
// is as good as a password to whoever reads the log (X-Api-Key,
// X-Auth-Token, X-Session-Id, X-Csrftoken, X-Hub-Signature, a client
// certificate's subject); a user name or an address names a person
// (X-Forwarded-User, X-Forwarded-Email of authenticating proxies); a
// visitor's city, postal code or coordinates locate them more finely than
// a truncated address (CloudFront-Viewer-Latitude, X-Vercel-IP-City,
// CF-IPCity, X-AppEngine-CityLatLong, X-Akamai-Edgescape). Dropping a
// harmless header costs the log a detail (Sec-WebSocket-Key is a nonce);
// keeping one of these costs a visitor their account or their privacy.
var dropWords = [][]byte{
	[]byte("auth"), []byte("token"), []byte("secret"), []byte("key"), []byte("session"),
	[]byte("passw"), []byte("credential"), []byte("signature"), []byte("csrf"), []byte("xsrf"),
	[]byte("cookie"), []byte("jwt"), []byte("cert"), []byte("user"), []byte("mail"),
	[]byte("latitude"), []byte("longitude"), []byte("city"), []byte("postal"), []byte("geo"),
	[]byte("edgescape"),
}

// keptName reports whether a lowercase name that may hold a drop word is
// one that standards define and that carries nothing of the kind: RFC
// 9110's User-Agent, the Fetch standard's Sec-Fetch-User (?1 when the user
// activated the navigation) and its CORS headers (Access-Control-*:
// methods, header names, origins, "true").
func keptName(lower []byte) bool {
	return string(lower) == "user-agent" || string(lower) == "sec-fetch-user" ||
		bytes.HasPrefix(lower, []byte("access-control-"))
}

// nameRule is the treatment of a header known by no name, by its words:
// dropped when it holds a drop word; an address, truncated, when its last
// word says so (ends in "ip", "ipv4" or "ipv6", or is "ips", "addr",
// "address" or "for": Fly-Client-IP, X-Azure-SocketIP, X-Forwarded-For,
// CloudFront-Viewer-Address, DO-Connecting-IP, and the names nobody listed
// yet), whose value is replaced when it is no address; kept otherwise.
func nameRule(name string) Rule {
	var buf [maxLearnedNameLength]byte
	lower := buf[:0]
	if len(name) > len(buf) {
		lower = make([]byte, 0, len(name))
	}
	lower = httpfield.AppendLower(lower, name)
	if keptName(lower) {
		return RuleKeep
	}
	for _, w := range dropWords {
		if bytes.Contains(lower, w) {
			return RuleDrop
		}
	}
	last := lower[bytes.LastIndexByte(lower, '-')+1:]
	switch {
	case bytes.HasSuffix(last, []byte("ip")), bytes.HasSuffix(last, []byte("ipv4")), bytes.HasSuffix(last, []byte("ipv6")):
		return RuleIP
	}
	switch string(last) {
	case "ips", "addr", "address", "for":
		return RuleIP
	}
	return RuleKeep
}
