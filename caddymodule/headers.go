package caddymodule

import (
	"net/http"
	"strings"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// filterHeaders applies the header rules to the response's header fields:
// Link targets, Refresh and Speculation-Rules, and Set-Cookie.
func (rw *responseWriter) filterHeaders() {
	rw.filterLinks()
	rw.filterNavigationHeaders()
	rw.filterSetCookies()
}

// headerPage is the classifier for URLs in response headers, made on first
// need.
func (rw *responseWriter) headerPage() *rules.Page {
	if rw.linkPage == nil {
		rw.linkPage = rw.h.rules.NewPage(pageURL(rw.r), rw.granted)
	}
	return rw.linkPage
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
	p := rw.headerPage()
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
	if rw.headerPage().Permissive() {
		return
	}
	out := vals[:0:0]
	changed := false
	for _, v := range vals {
		nv, ok := filterLinkValue(v, rw.linkPage)
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

// linkClassifier is what filterLinkValue asks; *rules.Page implements it.
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
			i++
			for i < len(v) && v[i] != '"' {
				if v[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(v) {
				return len(v), uri, false
			}
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
	start, quoted := 0, false
	for i := 0; i <= len(v); i++ {
		if i < len(v) {
			switch c := v[i]; {
			case c == '\\' && quoted:
				i++
				continue
			case c == '"':
				quoted = !quoted
				continue
			case c != ',' || quoted:
				continue
			}
		}
		if d := strings.TrimSpace(v[start:min(i, len(v))]); d != "" {
			out = append(out, d)
		}
		start = i + 1
	}
	return out
}

var _ linkClassifier = (*rules.Page)(nil)
