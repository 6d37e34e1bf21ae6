package caddymodule

import (
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/consentedge/consentedge/rules"
)

// Collector is a path on the site's own domain that forwards to a tracker
// (server-side tagging such as /g/collect or /gtag/js, a first-party pixel):
// while its category is denied, requests to it are answered 204 No Content
// and never reach the origin.
type Collector struct {
	// Path is matched exactly, or as a prefix when it ends in '*'
	// ("/gtm/*"), against the request path as origins resolve it (see
	// collectorpath.go): "//G/x/../Collect;x." is /g/collect. An exact
	// path also matches with trailing slashes or dots.
	Path string `json:"path"`
	// Category is a category id or the id of a vendor, whose category
	// counts.
	Category string `json:"category"`

	cat     rules.Category
	vendor  int32 // the vendor named, or -1 for a category
	pattern collectorPattern
}

// resolveCollector prepares a collector: finds the category it names (a
// category id, or a vendor id standing for its vendor's category) and
// resolves its path as request paths are resolved.
func resolveCollector(rs *rules.Rules, c *Collector) bool {
	c.pattern = newCollectorPattern(c.Path)
	c.vendor = -1
	if cat, ok := rs.CategoryByID(c.Category); ok {
		c.cat = cat
		return true
	}
	if v, ok := rs.VendorByID(c.Category); ok {
		c.cat = v.Category
		c.vendor, _ = rs.VendorIndex(c.Category)
		return true
	}
	return false
}

// deniedCollector reports whether the request is for a collector whose
// category the visitor has not granted, or whose vendor they refused.
func (h *Handler) deniedCollector(r *http.Request, granted rules.Set, refused rules.VendorSet) (*Collector, bool) {
	if c := h.collectorFor(r.URL.Path); c != nil {
		return c, !granted.Has(c.cat) || c.vendor >= 0 && refused.Has(c.vendor)
	}
	return nil, false
}

// collectorFor finds the first collector whose path an origin may resolve
// the decoded request path to. A path already in resolved form, the common
// case, costs a scan and no allocation.
func (h *Handler) collectorFor(path string) *Collector {
	if len(h.Collectors) == 0 {
		return nil
	}
	if path == "" {
		path = "/" // an absolute-form target with no path
	}
	if path[0] != '/' {
		return nil // "*": no router takes it for a path
	}
	if isResolvedPath(path) {
		return findCollector(h.Collectors, path)
	}
	var buf [256]byte
	resolved := resolvePath(buf[:0], path, false)
	if c := findCollector(h.Collectors, resolved); c != nil || strings.IndexByte(path, ';') < 0 {
		return c
	}
	// Routers that keep path parameters resolve "/g/;/../collect" to
	// /g/collect, those that drop them to /collect: try both.
	return findCollector(h.Collectors, resolvePath(resolved[:0], path, true))
}

// findCollector is the first collector whose pattern path matches.
func findCollector[P string | []byte](cs []Collector, path P) *Collector {
	for i := range cs {
		if collectorMatches(&cs[i].pattern, path) {
			return &cs[i]
		}
	}
	return nil
}

// answerCollector answers a denied collector request: 204, never cached (the
// same URL answers for real once the visitor consents).
func (h *Handler) answerCollector(w http.ResponseWriter, r *http.Request, c *Collector) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	if ce := h.logger.Check(zap.DebugLevel, "collector request answered without the origin"); ce != nil {
		ce.Write(zap.String("path", r.URL.Path), zap.String("collector", c.Path), zap.String("category", c.Category))
	}
}

// requestFilter is what the request side removed, for the log.
type requestFilter struct {
	cookies []rules.Removal
	params  int
}

// filterRequest keeps the tracking cookies and the click identifiers of
// denied vendors, and of vendors refused by name, away from the origin.
func (h *Handler) filterRequest(r *http.Request, granted rules.Set, refused rules.VendorSet) (rf requestFilter) {
	if lines := r.Header["Cookie"]; len(lines) > 0 {
		out := lines[:0:0]
		changed := false
		for _, line := range lines {
			n := len(rf.cookies)
			nl, removed := h.rules.FilterCookieHeader(line, granted, refused, rf.cookies)
			rf.cookies = removed
			if len(rf.cookies) == n {
				out = append(out, line)
				continue
			}
			changed = true
			if nl != "" {
				out = append(out, nl)
			}
		}
		if changed {
			if len(out) == 0 {
				delete(r.Header, "Cookie")
			} else {
				r.Header["Cookie"] = out
			}
		}
	}
	if h.params.Denies(granted) && r.URL.RawQuery != "" {
		if q, n := h.params.StripDenied(r.URL.RawQuery, granted); n > 0 {
			rf.params += n
			setQuery(r, q)
		}
	}
	if refused != nil && r.URL.RawQuery != "" {
		// The click ids of vendors refused by name, whatever their
		// category: few visitors, so built per request.
		if vp := h.rules.VendorParams(refused); vp != nil {
			if q, n := vp.Strip(r.URL.RawQuery); n > 0 {
				rf.params += n
				setQuery(r, q)
			}
		}
	}
	return rf
}

// setQuery gives r the query q, in its URL and in RequestURI, which Caddy's
// {uri} placeholder and access log read: the same URL as the origin gets.
func setQuery(r *http.Request, q string) {
	r.URL.RawQuery = q
	if i := strings.IndexByte(r.RequestURI, '?'); i >= 0 {
		r.RequestURI = r.RequestURI[:i]
		if q != "" {
			r.RequestURI += "?" + q
		}
	}
}

// filterSetCookies drops the response's Set-Cookie fields that set a
// tracking cookie of a denied category and caps the lifetime of the granted
// ones at their vendor's retention. First-party tracking cookies come from
// server-side tagging or the application itself; the filter cannot see them
// in the markup.
func (rw *responseWriter) filterSetCookies() {
	h := rw.Header()
	vals := h["Set-Cookie"]
	if len(vals) == 0 {
		return
	}
	now := rw.h.now()
	out := vals[:0:0]
	changed := false
	for _, v := range vals {
		nv, drop, rm := rw.h.rules.SetCookie(v, rw.granted, rw.vendors.Denied, now)
		switch {
		case drop:
			rw.setCookies = append(rw.setCookies, *rm)
			changed = true
		case nv != v:
			changed = true
			out = append(out, nv)
		default:
			out = append(out, v)
		}
	}
	if !changed {
		return
	}
	if len(out) == 0 {
		delete(h, "Set-Cookie")
		return
	}
	h["Set-Cookie"] = out
}

// now is the handler's clock (tests set it).
func (h *Handler) now() time.Time {
	if h.clock != nil {
		return h.clock()
	}
	return time.Now()
}
