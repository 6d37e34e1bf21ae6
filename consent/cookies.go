package consent

import (
	"net/http"
	"strings"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// Bounds of the Cookie scan. Browsers send at most ~180 cookies per domain and
// 4 KiB per cookie; a header set beyond these bounds is an attack or a bug, and
// scanning it whole would let a client buy CPU with header bytes.
const (
	maxCookieBytes = 64 << 10 // header bytes scanned, over every Cookie line
	maxCookiePairs = 1000     // cookie pairs scanned, over every Cookie line
)

// CookieValues returns every value of the cookies named name in the Cookie
// headers of h, with a bounded scan of its own (see ScanCookies). Values are
// returned as sent, quotes included. When the bound was hit, the values found
// before it are returned; use ScanCookies to learn that it was.
func CookieValues(h http.Header, name string) []string {
	var vals []string
	ScanCookies(h, name, func(v string) bool {
		vals = append(vals, v)
		return true
	})
	return vals
}

// ScanCookies calls fn with the value of every cookie named name in the Cookie
// headers of h, in order, until fn returns false. It reports whether the scan
// was complete: false when it stopped at a bound (64 KiB of header bytes or
// 1000 cookie pairs), in which case a cookie of that name may have gone unread
// and callers must fail closed. It does not allocate.
//
// Go's r.Cookies() and http.ParseCookie do not fit: they drop values holding
// '"', '\\' or bytes >= 0x7f (raw-JSON CMP cookies), stop above 3000 cookies,
// and ParseCookie fails a whole header for one bad pair. The parse here is RFC
// 6265 §5.4's serialisation read back the way servers read it: pairs split on
// ';', SP and HTAB trimmed, the name up to the first '=' (a pair without '=' has
// an empty name, as in RFC 6265bis §5.6), names compared exactly. Every Cookie
// line counts: HTTP/2 and HTTP/3 may split the header into several fields
// (RFC 9113 §8.2.3).
func ScanCookies(h http.Header, name string, fn func(value string) bool) (complete bool) {
	return scanCookies(h, func(n string) bool { return n == name }, func(_, v string) bool { return fn(v) })
}

// scanCookies is ScanCookies for every cookie whose name match accepts
// (complianz writes one cookie per category, cmplz_<category>).
func scanCookies(h http.Header, match func(name string) bool, fn func(name, value string) bool) (complete bool) {
	bytes, pairs := 0, 0
	for _, line := range h["Cookie"] {
		if bytes+len(line) > maxCookieBytes {
			// Scan the whole pairs that fit, then report the bound: a pair cut
			// in the middle could read as a shorter, different value.
			line = line[:maxCookieBytes-bytes]
			if i := strings.LastIndexByte(line, ';'); i >= 0 {
				line = line[:i]
			} else {
				line = ""
			}
			complete = false
		} else {
			complete = true
		}
		bytes += len(line)
		for line != "" {
			var pair string
			if i := strings.IndexByte(line, ';'); i >= 0 {
				pair, line = line[:i], line[i+1:]
			} else {
				pair, line = line, ""
			}
			pair = httpfield.TrimWSP(pair)
			if pair == "" {
				continue
			}
			if pairs++; pairs > maxCookiePairs {
				return false
			}
			n, v, ok := strings.Cut(pair, "=")
			if !ok {
				continue // nameless cookie: never ours
			}
			if n = httpfield.TrimWSP(n); match(n) && !fn(n, httpfield.TrimWSP(v)) {
				return true // the caller stopped, not a bound
			}
		}
		if !complete {
			return false
		}
	}
	return true
}
