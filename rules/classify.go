package rules

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strings"

	wurl "github.com/nlnwa/whatwg-url/url"

	"github.com/consentedge/consentedge/internal/httpfield"
	"github.com/consentedge/consentedge/internal/textcache"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// urlParser is the WHATWG URL parser of the slow path. It holds only options
// and is safe for concurrent use.
var urlParser = wurl.NewParser()

// Classifier decides, for one response (a page URL, a visitor's consent),
// which loads are trackers of a denied category: it implements
// htmlfilter.Policy. It is used from one goroutine; its scratch buffers
// make steady-state classification allocation-free.
type Classifier struct {
	r         *Rules
	granted   Set
	deniesAny bool                      // some declared category is denied: an unparseable URL is blocked
	exempt    VendorSet                 // vendors kept whatever their category (Consent Mode "advanced")
	refused   VendorSet                 // vendors refused by name, whatever their category
	noDefer   Set                       // categories whose blocked elements are stripped in Defer mode
	scripts   *textcache.Cache[[]int32] // UseScriptCache; nil: none
	recent    recentScripts             // kept across Reset (scriptcache.go)
	lastHost  hostVerdict               // kept across Reset

	// Unclassify: third-party loads no rule names count as unclassified's.
	unclassified  Category
	unclassifying bool
	site          string // the page's registrable domain, once known
	siteKnown     bool

	pageURL string
	page    *wurl.Url // the page URL; nil if it did not parse
	parsed  bool      // pageURL has been parsed into page
	lazy    bool      // the base is the page URL, known so far without parsing it
	base    *wurl.Url // the document base URL; nil if it did not parse
	baseSet bool
	// relBefore: a URL that a base would resolve, or a script, was
	// classified before any base was set.
	relBefore bool
	// baseHTTP: base is http(s), so "//host/..." is an http(s) URL (WHATWG
	// "special authority slashes" via the base's scheme). baseClean: moreover
	// no vendor rule names the base host or a parent of it, so a relative URL
	// (which keeps the base host) names no vendor whatever its path.
	baseHTTP, baseClean bool

	hostBuf [255]byte // lowercased hostname (a DNS name has at most 253 bytes)
	pathBuf []byte    // "/" + query when the path is empty
	runBuf  []byte    // a URL found in a script, made absolute
	scr     []byte    // normalised script text
	raw     []byte    // the script text scr was made of (not owned)
	blank   []byte    // raw with its comments blanked (comments.go)
	scr2    []byte    // blank, normalised
	sigs    []int32   // vendors whose signatures scanScript found
	dec     []byte    // percent-decoded javascript:/data: body
	dec64   []byte    // base64-decoded data: body
	clean   []byte    // slow path input, trimmed, tabs and newlines removed
}

// NewClassifier returns a classifier for a page at pageURL for a visitor who
// granted granted (necessary is added: it is always granted).
func (r *Rules) NewClassifier(pageURL string, granted Set) *Classifier {
	p := new(Classifier)
	p.Reset(r, pageURL, granted)
	return p
}

// Reset makes p a classifier for another page, as r.NewClassifier would, keeping
// its scratch buffers: a server that keeps one Classifier per pooled response
// allocates none of them per response. It forgets the script cache.
func (p *Classifier) Reset(r *Rules, pageURL string, granted Set) {
	*p = Classifier{r: r, granted: granted.With(Necessary), pageURL: pageURL,
		pathBuf: p.pathBuf[:0], runBuf: p.runBuf[:0], scr: p.scr[:0],
		blank: p.blank[:0], scr2: p.scr2[:0], sigs: p.sigs[:0],
		dec: p.dec[:0], dec64: p.dec64[:0], clean: p.clean[:0], recent: p.recent, lastHost: p.lastHost}
	p.deniesAny = r.AllCategories()&^p.granted != 0
	if host, ok := plainHTTPHost(pageURL); ok {
		// The common case: what the fast paths need is known without a
		// WHATWG parse, which costs microseconds; the slow path and SetBase
		// parse the page URL when they first need it.
		p.lazy, p.baseHTTP = true, true
		p.baseClean = p.lastHost.clean(r, host)
		return
	}
	p.parsePage()
	p.setBase(p.page)
}

// hostVerdict remembers whether a page host is clean (no rule names it or
// a parent of it) across a pooled classifier's responses: a site's pages
// share their host, and the rules' host map is cold between responses. The
// host is kept in the classifier's own memory: the last page URL's bytes
// are as cold as the map.
type hostVerdict struct {
	r       *Rules
	host    [64]byte
	n       uint8 // host[:n]; 0: nothing remembered
	isClean bool
}

// clean reports whether no rule of r names host or a parent of it.
func (v *hostVerdict) clean(r *Rules, host string) bool {
	if v.n != 0 && v.r == r && string(v.host[:v.n]) == host {
		return v.isClean
	}
	var buf [255]byte
	isClean := !r.hostHasRule(append(buf[:0], host...))
	*v = hostVerdict{r: r, isClean: isClean}
	if len(host) <= len(v.host) {
		v.n = uint8(copy(v.host[:], host))
	}
	return isClean
}

// plainHTTPHost returns the host of an http(s) URL whose host is plain
// lowercase ASCII (letters, digits, '.', '-') with at most a numeric port:
// the WHATWG parser would return the same host for it.
func plainHTTPHost(u string) (string, bool) {
	switch {
	case strings.HasPrefix(u, "https://"):
		u = u[8:]
	case strings.HasPrefix(u, "http://"):
		u = u[7:]
	default:
		return "", false
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	host, port, hasPort := strings.Cut(u, ":")
	if host == "" || len(host) > 253 || hasPort && (port == "" || len(port) > 5) {
		return "", false
	}
	for i := range len(port) {
		if port[i] < '0' || port[i] > '9' {
			return "", false
		}
	}
	for i := range len(host) {
		if c := host[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return "", false
		}
	}
	return host, true
}

// parsePage parses the page URL once, on first need.
func (p *Classifier) parsePage() {
	if p.parsed {
		return
	}
	p.parsed = true
	if u, err := urlParser.Parse(p.pageURL); err == nil {
		p.page = u
	}
}

// baseURL returns the document base URL, parsing the page URL if the base is
// still that.
func (p *Classifier) baseURL() *wurl.Url {
	if p.lazy {
		p.lazy = false
		p.parsePage()
		p.base = p.page
	}
	return p.base
}

// Permissive implements htmlfilter.Permissive: a visitor who granted every
// category gets the page exactly as the origin sent it.
func (p *Classifier) Permissive() bool { return !p.deniesAny }

// SetBase implements htmlfilter.Policy. Only the first base kept counts (HTML
// §4.2.3: the frozen base URL comes from the first base element with an href).
// href is resolved against the page URL. A base that does not parse makes
// every relative URL unparseable, hence blocked: the HTML standard now falls
// back to the document URL, but engines have differed, and failing closed
// costs only pages that are broken already.
//
// A base that comes after relative URLs or scripts were classified is
// refused (the element is to go) when it could make them a vendor's: a
// browser may resolve them against it, since an img fetches its URL only
// once the parser yields (HTML "update the image data" awaits a stable
// state), by which time a later base may be parsed. Only an http(s) base on
// a host that no vendor rule names keeps every relative URL off vendors'
// hosts.
func (p *Classifier) SetBase(href []byte) htmlfilter.Verdict {
	if p.baseSet {
		return htmlfilter.Verdict{}
	}
	p.parsePage()
	var u *wurl.Url
	var err error
	if p.page != nil {
		u, err = p.page.Parse(string(href))
	} else {
		u, err = urlParser.Parse(string(href))
	}
	if err != nil {
		u = nil
	}
	if u != nil && p.relBefore && p.deniesAny {
		if s := u.Scheme(); s != "http" && s != "https" || p.r.hostHasRule([]byte(u.Hostname())) {
			return htmlfilter.Verdict{Block: true, Vendor: VendorLateBase}
		}
	}
	p.baseSet = true
	p.lazy = false
	p.setBase(u)
	return htmlfilter.Verdict{}
}

// dependsOnBase reports whether a base URL could change the host raw names:
// it has no scheme and does not start with "//" (which takes only the
// base's scheme), or it is an http(s) URL without "//" ("https:x" is
// relative to an https base). Other schemes are left out: they load nothing
// we classify relative to a base.
func dependsOnBase(raw []byte) bool {
	colon := schemeEnd(raw)
	if colon < 0 {
		return !(len(raw) >= 2 && raw[0] == '/' && raw[1] == '/')
	}
	rest := raw[colon+1:]
	return (httpfield.EqualFold(raw[:colon], "http") || httpfield.EqualFold(raw[:colon], "https")) &&
		!(len(rest) >= 2 && rest[0] == '/' && rest[1] == '/')
}

func (p *Classifier) setBase(u *wurl.Url) {
	p.base, p.baseHTTP, p.baseClean = u, false, false
	if u == nil {
		return
	}
	if s := u.Scheme(); s == "http" || s == "https" {
		p.baseHTTP = true
		p.baseClean = !p.r.hostHasRule([]byte(u.Hostname()))
	}
}

// denies reports whether the visitor denied c. Necessary is never denied.
func (p *Classifier) denies(c Category) bool {
	return c != Necessary && !p.granted.Has(c)
}

// deniesVendor reports whether vendor index v is blocked for this visitor.
func (p *Classifier) deniesVendor(v int32) bool {
	return p.refused.has(v) || p.denies(p.r.vendors[v].Category) && !p.exempt.has(v)
}

// RefuseVendors blocks the vendors in vs whatever their category: the
// visitor refused them by name (State.Vendors.Denied). vs is
// shared, not copied.
func (p *Classifier) RefuseVendors(vs VendorSet) {
	p.refused = vs
	p.deniesAny = p.deniesAny || !vs.Empty()
}

// NeverDefer marks categories whose denial the site's consent tool cannot
// see (State.Unseen): in Defer mode their elements are stripped,
// since the tool would revive them. So are the elements of vendors refused
// by name: the tool labels by category.
func (p *Classifier) NeverDefer(cats Set) { p.noDefer = cats }

// unseen reports whether vendor v is blocked for a reason the consent
// tool cannot see.
func (p *Classifier) unseen(v int32) bool {
	return p.refused.has(v) || p.noDefer.Has(p.r.vendors[v].Category)
}

// Exempt keeps the vendors in vs whatever their category: Google Consent
// Mode's "advanced" keeps Google's tags on the page, told by the consent
// default what they may store. vs is shared, not copied.
func (p *Classifier) Exempt(vs VendorSet) { p.exempt = vs }

// verdict turns a vendor index (or -1) into a Verdict.
func (p *Classifier) verdict(v int32) htmlfilter.Verdict {
	if v < 0 {
		return htmlfilter.Verdict{}
	}
	vd := p.r.vendors[v]
	if !p.deniesVendor(v) {
		return htmlfilter.Verdict{}
	}
	return htmlfilter.Verdict{Block: true, Category: p.r.cats[vd.Category].ID, Vendor: vd.ID, Unseen: p.unseen(v)}
}

// invalid is the verdict for a URL a browser cannot parse: blocked whenever
// something is denied, since we cannot tell what it would have loaded.
// Category "" makes the filter strip rather than defer it.
func (p *Classifier) invalid() htmlfilter.Verdict {
	if !p.deniesAny {
		return htmlfilter.Verdict{}
	}
	return htmlfilter.Verdict{Block: true, Vendor: VendorInvalidURL}
}

// URL implements htmlfilter.Policy. raw is an entity-decoded attribute value,
// resolved as a browser resolves it (WHATWG URL) against the base URL. The
// common shapes (relative URLs, plain ASCII http(s)://host/path and //host/path)
// are classified without allocating; anything unusual goes to a WHATWG parser.
func (p *Classifier) URL(raw []byte) htmlfilter.Verdict {
	if len(raw) == 0 {
		return htmlfilter.Verdict{}
	}
	if !p.baseSet && !p.relBefore && dependsOnBase(raw) {
		p.relBefore = true
	}
	if v, ok := p.fastURL(raw); ok {
		return v
	}
	return p.slowURL(raw)
}

// fastURL classifies raw when it is of a common shape; ok is false when the
// slow path must decide. It must agree with slowURL wherever ok is true
// (FuzzURL checks).
func (p *Classifier) fastURL(raw []byte) (v htmlfilter.Verdict, ok bool) {
	// WHATWG URL parsing strips leading and trailing C0 controls and spaces
	// and removes every tab and newline: leave such input to the slow path.
	if raw[0] <= ' ' || raw[len(raw)-1] <= ' ' || hasTabOrNewline(raw) {
		return v, false
	}
	// Over 2 KiB with an '@' the slow path refuses the URL (longUserinfo):
	// let it, so that both paths agree on every input (FuzzURL).
	if longUserinfo(raw) {
		return v, false
	}
	colon := schemeEnd(raw)
	if colon < 0 {
		// No scheme. "//", "/\", "\\" and "\/" start an authority when the
		// base is special (WHATWG "relative slash state": backslash = slash).
		if raw[0] == '/' || raw[0] == '\\' {
			if len(raw) > 1 && (raw[1] == '/' || raw[1] == '\\') {
				if raw[0] == '/' && raw[1] == '/' && p.baseHTTP {
					vd, ok := p.fastAbsolute(raw, 2)
					return p.verdict(vd), ok
				}
				return v, false
			}
		}
		if !p.lazy && p.base == nil {
			return p.invalid(), true
		}
		if p.baseClean {
			return p.fastRelative(raw)
		}
		return v, false
	}
	scheme := raw[:colon]
	rest := raw[colon+1:]
	switch {
	case httpfield.EqualFold(scheme, "http") || httpfield.EqualFold(scheme, "https"):
		// "https:foo" is relative to an https base and "https:/x" takes x as
		// the host: only the plain "//" form is fast.
		if len(rest) > 2 && rest[0] == '/' && rest[1] == '/' {
			vd, ok := p.fastAbsolute(raw, colon+3)
			return p.verdict(vd), ok
		}
		return v, false
	case len(rest) > 0 && rest[0] == '/' && (httpfield.EqualFold(scheme, "javascript") || httpfield.EqualFold(scheme, "data")):
		// "data://..." has an authority, which may fail to parse.
		return v, false
	case httpfield.EqualFold(scheme, "javascript"):
		return p.jsBody(rest), true
	case httpfield.EqualFold(scheme, "data"):
		if i := bytes.IndexByte(rest, '#'); i >= 0 {
			rest = rest[:i] // the data: URL processor excludes the fragment
		}
		return p.dataBody(rest), true
	case httpfield.EqualFold(scheme, "ws") || httpfield.EqualFold(scheme, "wss") ||
		httpfield.EqualFold(scheme, "ftp") || httpfield.EqualFold(scheme, "file"):
		return v, false
	}
	// Another non-special scheme (about:, mailto:, blob:, tel:...). Without
	// "/" after the colon WHATWG parses an opaque path, which cannot fail;
	// such URLs load nothing we classify.
	if len(rest) > 0 && rest[0] == '/' {
		return v, false
	}
	return v, true
}

// fastAbsolute classifies an ASCII http(s) URL whose host starts at hs
// (after "//"): it returns the vendor index (or -1) and ok; ok is false when
// the URL holds anything the WHATWG parser would rewrite (percent-encoded or
// non-ASCII host, userinfo, backslashes, dot segments, bytes it
// percent-encodes, an IPv4 address written in another form...).
func (p *Classifier) fastAbsolute(raw []byte, hs int) (int32, bool) {
	h := p.hostBuf[:0]
	j := hs
hostLoop:
	for ; j < len(raw); j++ {
		c := raw[j]
		switch {
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.':
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '/' || c == '?' || c == '#' || c == ':':
			break hostLoop
		default:
			return -1, false
		}
		if len(h) == cap(h) {
			return -1, false
		}
		h = append(h, c)
	}
	if !plainDomain(h) {
		return -1, false
	}
	if j < len(raw) && raw[j] == ':' {
		// WHATWG port state: ASCII digits up to 65535, then the path.
		port := 0
		for j++; j < len(raw) && raw[j] != '/' && raw[j] != '?' && raw[j] != '#'; j++ {
			c := raw[j]
			if c < '0' || c > '9' {
				return -1, false
			}
			if port = port*10 + int(c-'0'); port > 65535 {
				return -1, false
			}
		}
	}
	end := j
	for ; end < len(raw) && raw[end] != '#'; end++ {
		switch c := raw[end]; {
		case c <= ' ' || c >= 0x7f:
			return -1, false
		case c == '"' || c == '<' || c == '>' || c == '\'' || c == '`' || c == '{' || c == '}' || c == '\\' || c == '^' || c == '|':
			// percent-encoded by the path or special-query encode sets, or
			// (backslash) a path separator
			return -1, false
		case c == '.' && raw[end-1] == '/':
			// possibly a "." or ".." segment (WHATWG path state removes them)
			return -1, false
		case c == '%' && end+2 < len(raw) && raw[end+1] == '2' && (raw[end+2] == 'e' || raw[end+2] == 'E'):
			// "%2e" counts as "." in dot segments
			return -1, false
		}
	}
	pq := raw[j:end]
	if len(pq) == 0 || pq[0] != '/' {
		// An empty path serialises as "/" for special URLs.
		p.pathBuf = append(append(p.pathBuf[:0], '/'), pq...)
		pq = p.pathBuf
	}
	if q := bytes.IndexByte(pq, '?'); q == len(pq)-1 {
		pq = pq[:q] // an empty query reads as none (URL.search is "")
	}
	return p.r.match(h, pq), true
}

// fastRelative classifies a relative reference (no scheme, no authority)
// against a base whose host no rule names: only a path rule can name it.
// ok is false when the reference holds anything the WHATWG parser would
// rewrite, or has no path of its own (it then keeps the base's).
func (p *Classifier) fastRelative(raw []byte) (v htmlfilter.Verdict, ok bool) {
	if len(p.r.paths) == 0 {
		return v, true
	}
	end := len(raw)
	if i := bytes.IndexByte(raw, '#'); i >= 0 {
		end = i
	}
	if end == 0 || raw[0] == '?' {
		return v, false
	}
	// Most references end in a segment no path rule is filed under: the
	// canonical path's last segment is this one, trailing slashes left out
	// (neither the parser nor canonPath rewrites its bytes into a rule's),
	// so none can match.
	q := end
	if i := bytes.IndexByte(raw[:end], '?'); i >= 0 {
		q = i
	}
	path := bytes.TrimRight(raw[:q], "/\\")
	seg := path[bytes.LastIndexAny(path, "/\\")+1:]
	if bytes.IndexByte(seg, '%') < 0 && bytes.IndexByte(seg, ';') < 0 && len(seg) <= maxPathSegment {
		var buf [maxPathSegment]byte
		if _, named := p.r.paths[string(httpfield.AppendLower(buf[:0], seg))]; !named && !isDotSegment(seg) {
			return v, true
		}
	}
	for i := 0; i < end; i++ {
		switch c := raw[i]; {
		case c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\'' || c == '`' ||
			c == '{' || c == '}' || c == '\\' || c == '^' || c == '|':
			return v, false
		case c == '.' && (i == 0 || raw[i-1] == '/'):
			return v, false // possibly a dot segment
		case c == '%' && i+2 < len(raw) && raw[i+1] == '2' && (raw[i+2] == 'e' || raw[i+2] == 'E'):
			return v, false
		}
	}
	pq := raw[:end]
	if pq[0] != '/' {
		// A path relative to the base's directory: resolved, a '/' comes
		// before it.
		p.pathBuf = append(append(p.pathBuf[:0], '/'), pq...)
		pq = p.pathBuf
	}
	return p.verdict(p.r.matchPath(pq)), true
}

// isDotSegment reports whether seg is "." or "..".
func isDotSegment(seg []byte) bool {
	return len(seg) == 1 && seg[0] == '.' || len(seg) == 2 && seg[0] == '.' && seg[1] == '.'
}

// plainDomain reports whether h (lowercase [a-z0-9.-]) is a domain the WHATWG
// host parser returns unchanged: no empty label (except a final dot), no
// punycode label to validate, and not ending in a number (those are IPv4
// addresses, to be normalised: "0x7f.1" is 127.0.0.1).
func plainDomain(h []byte) bool {
	if len(h) == 0 || h[0] == '.' || bytes.Contains(h, []byte("..")) {
		return false
	}
	t := h
	if t[len(t)-1] == '.' {
		t = t[:len(t)-1]
	}
	last := t
	if i := bytes.LastIndexByte(t, '.'); i >= 0 {
		last = t[i+1:]
	}
	if len(last) > 0 && '0' <= last[0] && last[0] <= '9' {
		return false // all digits, 0x..., 0...: leave to the IPv4 parser
	}
	for len(t) > 0 {
		if len(t) >= 4 && t[0] == 'x' && t[1] == 'n' && t[2] == '-' && t[3] == '-' {
			return false
		}
		i := bytes.IndexByte(t, '.')
		if i < 0 {
			break
		}
		t = t[i+1:]
	}
	return true
}

// slowURL classifies raw with the WHATWG URL parser against the base URL.
func (p *Classifier) slowURL(raw []byte) htmlfilter.Verdict {
	// WHATWG basic URL parser, first steps: strip leading and trailing C0
	// controls and spaces, remove all ASCII tabs and newlines.
	clean := p.clean[:0]
	for len(raw) > 0 && raw[0] <= ' ' {
		raw = raw[1:]
	}
	for len(raw) > 0 && raw[len(raw)-1] <= ' ' {
		raw = raw[:len(raw)-1]
	}
	for _, c := range raw {
		if c != '\t' && c != '\n' && c != '\r' {
			clean = append(clean, c)
		}
	}
	p.clean = clean
	// javascript: and data: URLs with an opaque path (no "/" after the
	// colon) serialise to their input with some bytes percent-encoded, which
	// the steps below decode again: read them directly. Large data: URLs
	// are common; the parser would copy them several times.
	if colon := schemeEnd(clean); colon > 0 && (colon+1 == len(clean) || clean[colon+1] != '/') {
		switch scheme, rest := clean[:colon], clean[colon+1:]; {
		case httpfield.EqualFold(scheme, "javascript"):
			return p.jsBody(rest)
		case httpfield.EqualFold(scheme, "data"):
			if i := bytes.IndexByte(rest, '#'); i >= 0 {
				rest = rest[:i]
			}
			return p.dataBody(rest)
		}
	}
	if longUserinfo(clean) {
		return p.invalid()
	}
	var u *wurl.Url
	var err error
	if b := p.baseURL(); b != nil {
		u, err = b.Parse(string(clean))
	} else {
		u, err = urlParser.Parse(string(clean))
	}
	if err != nil {
		return p.invalid()
	}
	switch u.Scheme() {
	case "http", "https", "ws", "wss":
		return p.verdict(p.r.matchURL(u))
	case "javascript":
		// HTML "evaluate a javascript: URL": the serialised URL minus
		// "javascript:", percent-decoded.
		return p.jsBody([]byte(strings.TrimPrefix(u.Href(false), "javascript:")))
	case "data":
		// Fetch "data: URL processor": the serialisation without fragment.
		return p.dataBody([]byte(strings.TrimPrefix(u.Href(true), "data:")))
	}
	return htmlfilter.Verdict{}
}

// maxUserinfo bounds a path segment that holds an '@' before the query: the
// WHATWG parser we use builds userinfo by string concatenation, quadratic in
// its length (a 200 KB userinfo costs seconds). No real URL comes close; one
// that does is treated as unparseable.
const maxUserinfo = 2048

// longUserinfo reports whether a segment (between '/' or '\\') before the
// first '?' or '#' of s is longer than maxUserinfo and holds an '@'.
func longUserinfo(s []byte) bool {
	if len(s) <= maxUserinfo {
		return false
	}
	if i := bytes.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	for len(s) > maxUserinfo {
		seg := s
		if i := bytes.IndexAny(s, "/\\"); i >= 0 {
			seg, s = s[:i], s[i+1:]
		} else {
			s = nil
		}
		if len(seg) > maxUserinfo && bytes.IndexByte(seg, '@') >= 0 {
			return true
		}
	}
	return false
}

// slowAbsolute classifies an absolute URL with the WHATWG parser; a URL that
// does not parse or is not http(s)/ws(s) names no vendor.
func (p *Classifier) slowAbsolute(raw string) (v int32, parsed bool) {
	u, err := urlParser.Parse(raw)
	if err != nil {
		return -1, false
	}
	switch u.Scheme() {
	case "http", "https", "ws", "wss":
		return p.r.matchURL(u), true
	}
	return -1, true
}

// matchURL finds the vendor of a parsed http(s)/ws(s) URL.
func (r *Rules) matchURL(u *wurl.Url) int32 {
	pq := u.Pathname() + u.Search()
	return r.match([]byte(u.Hostname()), []byte(pq))
}

// jsBody classifies the body of a javascript: URL (after "javascript:") as
// script text, percent-decoded first (HTML §7.4.1.4).
func (p *Classifier) jsBody(body []byte) htmlfilter.Verdict {
	p.dec = httpfield.AppendPercentDecoded(p.dec[:0], body)
	return p.Script(p.dec)
}

// dataBody classifies a data: URL (after "data:", without fragment) per the
// Fetch standard's data: URL processor: the media type runs to the first ',',
// ";base64" at its end means forgiving-base64 of the percent-decoded body.
//
// The body is read as script text unless the media type is one a browser
// never runs (image other than SVG, audio, video, font): a classic script
// from data: runs whatever its declared type (HTML does not check the MIME
// type of classic scripts), so text/plain is read too.
func (p *Classifier) dataBody(rest []byte) htmlfilter.Verdict {
	comma := bytes.IndexByte(rest, ',')
	if comma < 0 {
		return htmlfilter.Verdict{} // a network error: loads nothing
	}
	mt := bytes.Trim(rest[:comma], " \t\n\f\r")
	isB64 := false
	if semi := bytes.LastIndexByte(mt, ';'); semi >= 0 {
		if httpfield.EqualFold(bytes.TrimLeft(mt[semi+1:], " "), "base64") {
			isB64 = true
			mt = mt[:semi]
		}
	}
	if semi := bytes.IndexByte(mt, ';'); semi >= 0 {
		mt = mt[:semi]
	}
	mt = bytes.Trim(mt, " \t\n\f\r")
	if inertMediaType(mt) {
		return htmlfilter.Verdict{}
	}
	p.dec = httpfield.AppendPercentDecoded(p.dec[:0], rest[comma+1:])
	body := p.dec
	if isB64 {
		var ok bool
		if p.dec64, ok = forgivingBase64(p.dec64, body); !ok {
			return htmlfilter.Verdict{} // failure: a network error
		}
		body = p.dec64
	}
	return p.Script(body)
}

// inertMediaType: media types whose data: URLs never run script.
func inertMediaType(mt []byte) bool {
	slash := bytes.IndexByte(mt, '/')
	if slash < 0 {
		return false
	}
	typ, sub := mt[:slash], bytes.TrimSpace(mt[slash+1:])
	switch {
	case httpfield.EqualFold(typ, "image"):
		return !httpfield.EqualFold(sub, "svg+xml")
	case httpfield.EqualFold(typ, "audio"), httpfield.EqualFold(typ, "video"), httpfield.EqualFold(typ, "font"):
		return true
	}
	return false
}

// forgivingBase64 decodes src per the Infra standard into dst[:0]: ASCII
// whitespace removed, up to two '=' of padding removed when the length is a
// multiple of 4, failure on a remainder of 1 or a byte outside the alphabet.
// It compacts src in place.
func forgivingBase64(dst, src []byte) ([]byte, bool) {
	in := src[:0]
	for _, c := range src {
		if c != ' ' && c != '\t' && c != '\n' && c != '\f' && c != '\r' {
			in = append(in, c)
		}
	}
	if len(in)%4 == 0 {
		in = bytes.TrimSuffix(in, []byte("="))
		in = bytes.TrimSuffix(in, []byte("="))
	}
	if len(in)%4 == 1 {
		return dst[:0], false
	}
	dst = slices.Grow(dst[:0], base64.RawStdEncoding.DecodedLen(len(in)))
	n, err := base64.RawStdEncoding.Decode(dst[:cap(dst)], in)
	if err != nil {
		return dst[:0], false
	}
	return dst[:n], true
}

// match finds the vendor of a URL by lowercase hostname and path(+query):
// the most specific rule wins, i.e. the longest matching hostname (a rule
// matches its host and subdomains), then the longest path prefix. -1: none.
func (r *Rules) match(host, pq []byte) int32 {
	if n := len(host); n > 0 && host[n-1] == '.' {
		host = host[:n-1] // "example.com." is the same DNS name
	}
	for len(host) > 0 {
		if rs, ok := r.hosts[string(host)]; ok {
			if v := matchHostRules(rs, pq); v >= 0 {
				return v
			}
		}
		i := bytes.IndexByte(host, '.')
		if i < 0 {
			break
		}
		host = host[i+1:]
	}
	return r.matchPath(pq)
}

// matchHostRules finds the first of a host's rules (longest first) that
// the path(+query) pq matches, at a segment boundary of its canonical path
// (pathform.go); -1: none.
func matchHostRules(rs []hostRule, pq []byte) int32 {
	var buf [maxPathTail]byte
	var c, query []byte
	for i, hr := range rs {
		if hr.path == "" {
			return hr.vendor
		}
		if i == 0 {
			path := pq
			if q := bytes.IndexByte(pq, '?'); q >= 0 {
				path, query = pq[:q], pq[q+1:]
			}
			if c = path; !isCanonPath(path) {
				c = canonPath(buf[:0], path)
			}
		}
		if hostPathMatches(c, query, hr.path) {
			return hr.vendor
		}
	}
	return -1
}

// hostHasRule reports whether any rule names host or a parent domain of it.
func (r *Rules) hostHasRule(host []byte) bool {
	if n := len(host); n > 0 && host[n-1] == '.' {
		host = host[:n-1]
	}
	for len(host) > 0 {
		if _, ok := r.hosts[string(host)]; ok {
			return true
		}
		i := bytes.IndexByte(host, '.')
		if i < 0 {
			break
		}
		host = host[i+1:]
	}
	return false
}

// Classify returns a copy of the vendor an absolute URL belongs to, or nil.
// It parses u as a browser does (WHATWG URL).
func (r *Rules) Classify(u string) *Vendor {
	pu, err := urlParser.Parse(u)
	if err != nil {
		return nil
	}
	switch pu.Scheme() {
	case "http", "https", "ws", "wss":
		if v := r.matchURL(pu); v >= 0 {
			return r.vendors[v].clone()
		}
	}
	return nil
}

// schemeEnd returns the index of the ':' ending raw's scheme (WHATWG scheme
// state: an ASCII alpha, then alphanumerics, '+', '-', '.'), or -1.
func schemeEnd(raw []byte) int {
	if len(raw) == 0 || !('a' <= raw[0]|0x20 && raw[0]|0x20 <= 'z') {
		return -1
	}
	for i := 1; i < len(raw); i++ {
		c := raw[i]
		switch {
		case 'a' <= c|0x20 && c|0x20 <= 'z', '0' <= c && c <= '9', c == '+', c == '-', c == '.':
		case c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

func hasTabOrNewline(b []byte) bool {
	for _, c := range b {
		if c == '\t' || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// hasPathPrefix reports whether the path(+query) pq starts with the lowercase
// rule path prefix, ignoring ASCII case and reading a percent-encoded
// unreserved character as itself (RFC 3986 §6.2.2.2): a vendor's server
// decodes "/t%72" to "/tr", so the rule for "/tr" must match it.
func hasPathPrefix(pq []byte, prefix string) bool {
	i := 0
	for k := 0; k < len(prefix); k++ {
		if i >= len(pq) {
			return false
		}
		c := pq[i]
		i++
		if c == '%' && i+1 < len(pq) && httpfield.IsHex(pq[i]) && httpfield.IsHex(pq[i+1]) {
			if d := httpfield.Unhex(pq[i])<<4 | httpfield.Unhex(pq[i+1]); isUnreserved(d) {
				c = d
				i += 2
			}
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[k] {
			return false
		}
	}
	return true
}

// isUnreserved: RFC 3986 §2.3.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

var (
	_ htmlfilter.Policy     = (*Classifier)(nil)
	_ htmlfilter.Permissive = (*Classifier)(nil)
)
