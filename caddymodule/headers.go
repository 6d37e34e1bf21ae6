package caddymodule

import (
	"net/http"
	"slices"
	"strings"

	"go.uber.org/zap"
	"golang.org/x/net/http/httpguts"

	"github.com/consentedge/consentedge/internal/httpfield"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// filterHeaders applies the header rules to the response's header fields:
// a redirect's Location, Link targets, Refresh and Speculation-Rules, and
// Set-Cookie. A redirect to a tracker may refuse the response
// (filterRedirect); nothing else is done then.
func (rw *responseWriter) filterHeaders() {
	if rw.filterRedirect() {
		return
	}
	rw.filterLinks()
	rw.filterNavigationHeaders()
	rw.filterSetCookies()
}

// headerPolicy is the classifier for URLs in response headers, made on first
// need.
func (rw *responseWriter) headerPolicy() *rules.Classifier {
	if rw.linkPolicy == nil {
		rw.linkPolicy = rw.h.rules.NewClassifier(pageURL(rw.r), rw.granted)
		rw.linkPolicy.RefuseVendors(rw.vendors.Denied)
	}
	return rw.linkPolicy
}

// trackerRedirect refuses a redirect that would lead a subresource request
// to a tracker of a denied category: ServeHTTP answers it as a denied
// collector is answered (answerTrackerRedirect).
type trackerRedirect struct {
	status           int
	vendor, category string
}

func (e *trackerRedirect) Error() string {
	return "redirect to a tracker of a denied category"
}

// filterRedirect handles a redirect whose Location is a tracker's URL. A
// browser follows a redirect for an <img> or a <script> as it follows one
// for a click, so a first-party URL that redirects to a tracker is a
// tracking hop the page filter never sees. While the tracker is denied,
// a subresource request gets no redirect (the response is refused, and it
// reports true); a navigation (Sec-Fetch-Dest document, iframe or frame:
// a visitor clicking through to a vendor's site) keeps it. A request
// without Sec-Fetch-Dest (a browser that predates Fetch Metadata) counts
// as a subresource. Redirects elsewhere are untouched.
//
// A kept redirect to a tracker depends on the request fields that chose
// it: Sec-Fetch-Dest when the tracker is denied, the consent's fields when
// it is granted; Vary names them (RFC 9110 §12.5.5) and, unless the cache
// option is vary, Cache-Control keeps it out of shared caches, as for a
// filtered page.
func (rw *responseWriter) filterRedirect() bool {
	locs := rw.Header()["Location"]
	if !isRedirect(rw.statusCode) || len(locs) == 0 {
		return false
	}
	v, tracker := rw.redirectVerdict(locs)
	if !tracker {
		return false
	}
	h := rw.Header()
	switch {
	case !v.Block:
		addVary(h, "Cookie")
		if rw.h.gpc {
			addVary(h, "Sec-GPC")
		}
	case isNavigation(rw.r.Header):
		addVary(h, "Sec-Fetch-Dest")
	default:
		rw.refuse(&trackerRedirect{status: rw.statusCode, vendor: v.Vendor, category: v.Category})
		return true
	}
	if rw.h.Cache != cacheVary {
		privateCache(h)
	}
	return false
}

// redirectVerdict classifies a redirect's Location values, each resolved
// against the request URL as Fetch resolves it (WHATWG URL): the first
// blocked for this visitor, and whether any is a URL some visitor's
// consent blocks (one who granted nothing). A browser refuses a redirect
// with several differing Location fields, but checking each costs nothing.
func (rw *responseWriter) redirectVerdict(locs []string) (v htmlfilter.Verdict, tracker bool) {
	p := rw.headerPolicy()
	for _, loc := range locs {
		if v = p.URL([]byte(loc)); v.Block {
			return v, true
		}
	}
	none := rw.h.rules.NewClassifier(pageURL(rw.r), 0)
	for _, loc := range locs {
		if none.URL([]byte(loc)).Block {
			return htmlfilter.Verdict{}, true
		}
	}
	return htmlfilter.Verdict{}, false
}

// isRedirect reports whether status is one Fetch follows by its Location
// (the Fetch standard's "redirect status").
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// isNavigation reports whether the request is a navigation by its
// Sec-Fetch-Dest (Fetch Metadata Request Headers: the request's
// destination; a top-level document or a frame). Anything else, a missing
// header included, is a subresource: the fail-closed reading. Browsers
// send the header only to potentially trustworthy URLs (https, localhost).
func isNavigation(h http.Header) bool {
	switch h.Get("Sec-Fetch-Dest") {
	case "document", "iframe", "frame":
		return true
	}
	return false
}

// addVary adds each of fields to the response's Vary that is not there
// already, growing it once.
func addVary(h http.Header, fields ...string) {
	vary := h["Vary"]
	missing := 0
	for _, f := range fields {
		if !httpguts.HeaderValuesContainsToken(vary, f) {
			missing++
		}
	}
	if missing == 0 {
		return
	}
	vary = slices.Grow(vary, missing)
	for _, f := range fields {
		if !httpguts.HeaderValuesContainsToken(vary, f) {
			vary = append(vary, f)
		}
	}
	h["Vary"] = vary
}

// answerTrackerRedirect answers a refused redirect as a denied collector is
// answered: 204, never cached (the same URL redirects for real once the
// visitor consents, and for a navigation), with no field of the origin's.
func (h *Handler) answerTrackerRedirect(w http.ResponseWriter, r *http.Request, tr *trackerRedirect) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Sec-Fetch-Dest")
	w.WriteHeader(http.StatusNoContent)
	if ce := h.logger.Check(zap.DebugLevel, "redirect to a tracker answered without it"); ce != nil {
		ce.Write(zap.String("path", r.URL.Path), zap.Int("status", tr.status),
			zap.String("vendor", tr.vendor), zap.String("category", tr.category))
	}
}

// filterNavigationHeaders handles the header fields that make a browser
// load by themselves, like their markup forms: Refresh navigates as <meta
// http-equiv=refresh> does (HTML §7.11.1), so it goes when its URL is
// blocked; Speculation-Rules names a rule set the browser fetches and then
// prefetches or prerenders from, which the filter cannot read (an inline
// <script type=speculationrules> is read), so it goes whenever anything is
// denied.
func (rw *responseWriter) filterNavigationHeaders() {
	h := rw.Header()
	refresh, spec := h["Refresh"], h["Speculation-Rules"]
	if len(refresh) == 0 && len(spec) == 0 {
		return
	}
	p := rw.headerPolicy()
	if p.Permissive() {
		return
	}
	if len(spec) > 0 {
		delete(h, "Speculation-Rules")
	}
	for _, v := range refresh {
		if u := htmlfilter.RefreshURL([]byte(v)); len(u) > 0 && p.URL(u).Block {
			delete(h, "Refresh")
			return
		}
	}
}

// filterLinks drops from the response's Link header fields every link-value
// whose target is blocked for this visitor. Browsers act on Link headers
// before any markup (preconnect, dns-prefetch, preload, modulepreload,
// prefetch, prerender; Firefox even applies rel=stylesheet), on 103 Early
// Hints as on final responses and whatever the content type, so every
// response the handler sees is checked, whatever the rel: a link to a
// tracker has no business in a response the visitor refused it on.
func (rw *responseWriter) filterLinks() {
	h := rw.Header()
	vals := h["Link"]
	if len(vals) == 0 {
		return
	}
	if rw.headerPolicy().Permissive() {
		return
	}
	out := vals[:0:0]
	changed := false
	for _, v := range vals {
		nv, ok := filterLinkValue(v, rw.linkPolicy)
		if !ok {
			out = append(out, v)
			continue
		}
		changed = true
		if nv != "" {
			out = append(out, nv)
		}
	}
	if !changed {
		return
	}
	if len(out) == 0 {
		delete(h, "Link")
		return
	}
	h["Link"] = out
}

// linkClassifier is what filterLinkValue asks; *rules.Classifier implements it.
type linkClassifier interface {
	URL(raw []byte) htmlfilter.Verdict
}

// filterLinkValue filters one Link field value, a list of link-values
// (RFC 8288 §3: `<URI-Reference> *( OWS ";" OWS link-param )`, separated
// by commas). Kept link-values keep their bytes; a blocked one goes, and
// so does one we cannot parse (the browser's reading of it is unknown).
// It reports whether anything was dropped, and the new value ("" when
// nothing is left).
func filterLinkValue(v string, p linkClassifier) (string, bool) {
	var kept []string
	changed := false
	i := 0
	for i < len(v) {
		// Skip list separators and OWS (RFC 9110 §5.6.1 allows empty
		// list elements).
		for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ',') {
			i++
		}
		if i >= len(v) {
			break
		}
		start := i
		end, uri, ok := scanLinkValue(v, i)
		i = end
		if !ok {
			changed = true
			continue
		}
		if p.URL([]byte(uri)).Block {
			changed = true
			continue
		}
		kept = append(kept, strings.TrimRight(v[start:end], " \t"))
	}
	if !changed {
		return v, false
	}
	return strings.Join(kept, ", "), true
}

// scanLinkValue reads the link-value starting at v[i] ('<' expected) up to
// the comma that ends it (outside quoted strings) or the end of v. It
// returns the end offset, the URI-Reference and whether the link-value
// parsed. A malformed one still ends at the next comma outside quotes,
// or, when a quote or '<' is left open, at the end of the field.
func scanLinkValue(v string, i int) (end int, uri string, ok bool) {
	ok = v[i] == '<'
	if ok {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return len(v), "", false
		}
		uri = v[i+1 : i+j]
		i += j + 1
		// After the target: OWS, then ';' params, or the end.
		k := i
		for k < len(v) && (v[k] == ' ' || v[k] == '\t') {
			k++
		}
		if k < len(v) && v[k] != ';' && v[k] != ',' {
			ok = false
		}
	}
	for i < len(v) {
		switch v[i] {
		case ',':
			return i, uri, ok
		case '"':
			// quoted-string (RFC 9110 §5.6.4), with quoted-pairs.
			end, closed := httpfield.QuotedStringEnd(v, i)
			if !closed {
				return len(v), uri, false
			}
			i = end - 1 // at the closing quote
		case '<':
			// A second target in one link-value.
			ok = false
		}
		i++
	}
	return i, uri, ok
}

// privateCache makes a filtered response's Cache-Control keep it out of
// shared caches (RFC 9111 §5.2.2.7): public goes (§5.2.2.9), as does
// s-maxage (§5.2.2.10, shared caches only), private with a field list
// (which lets a shared cache store the rest) becomes plain private, and
// everything else (max-age, no-cache, no-store, ...) stays for the
// browser's cache.
func privateCache(h http.Header) {
	vals := h["Cache-Control"]
	if len(vals) == 0 {
		h["Cache-Control"] = []string{"private"}
		return
	}
	var kept []string
	changed, private := false, false
	for _, v := range vals {
		for _, d := range splitDirectives(v) {
			name, _, _ := strings.Cut(d, "=")
			name = strings.TrimSpace(name)
			switch {
			case strings.EqualFold(name, "public"), strings.EqualFold(name, "s-maxage"):
				changed = true
				continue
			case strings.EqualFold(name, "private"):
				if private || strings.Contains(d, "=") {
					changed = true
					continue
				}
				private = true
			}
			kept = append(kept, d)
		}
	}
	if !private {
		kept = append([]string{"private"}, kept...)
		changed = true
	}
	if changed {
		h["Cache-Control"] = []string{strings.Join(kept, ", ")}
	}
}

// splitDirectives splits a Cache-Control value at commas outside quoted
// strings, trimming OWS and dropping empty members.
func splitDirectives(v string) []string {
	var out []string
	for _, d := range httpfield.SplitQuoted(v, ',') {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

var _ linkClassifier = (*rules.Classifier)(nil)
