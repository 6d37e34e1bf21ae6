package privacylog

import (
	"strings"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// This file takes what may identify a visitor out of the URIs and paths
// the privacy log encoder writes: request URIs, Referer, Location, and the
// module's own path fields.

// uri takes what may identify a visitor out of a URI (origin-form,
// absolute, a Referer, or a bare path): the userinfo, path parameters and
// path segments that look like e-mail addresses (scrubPath), click ids,
// the configured query parameters and those whose name or value looks like
// an e-mail address (query), and the fragment. The fragment goes whole: a
// Location's fragment can hold tokens (OAuth's implicit flow), and request
// URIs never have one.
func (p *Policy) uri(v string) string {
	if i := strings.IndexByte(v, '#'); i >= 0 {
		v = v[:i]
	}
	path, q, ok := strings.Cut(v, "?")
	path = scrubPath(path)
	if !ok {
		return path
	}
	if q = p.query(q); q == "" {
		return path
	}
	return path + "?" + q
}

// redacted replaces a path segment that looks like an e-mail address.
const redacted = "redacted"

// scrubPath takes out of a URI without its query and fragment:
//
//   - the userinfo of its authority (RFC 3986 §3.2.1, "user:password@"),
//     all that stands before the authority's last '@';
//   - the parameters of every path segment, from its first ';' to its end
//     (RFC 3986 §3.3: ";jsessionid=..." carries a servlet session), a
//     percent-encoded ';' being data, not a delimiter;
//   - every segment that, without its parameters, looks like an e-mail
//     address (looksLikeEmail, also percent-encoded), which becomes
//     "redacted": "/users/jane%40example.org/profile" logs as
//     "/users/redacted/profile".
//
// Only a v with ';', '@' or '%' is read; only one that changes allocates.
func scrubPath(v string) string {
	if !strings.ContainsAny(v, ";@%") {
		return v
	}
	w := rewriter{s: v}
	start := 0
	if host, end, ok := authority(v); ok {
		if at := strings.LastIndexByte(v[host:end], '@'); at >= 0 {
			w.replace(host, host+at+1, "")
		}
		start = end
	}
	for start < len(v) {
		end := strings.IndexByte(v[start:], '/')
		if end < 0 {
			end = len(v)
		} else {
			end += start
		}
		seg, _, params := strings.Cut(v[start:end], ";")
		switch {
		case strings.ContainsAny(seg, "@%") && looksLikeEmail(seg):
			w.replace(start, end, redacted)
		case params:
			w.replace(start+len(seg), end, "")
		}
		start = end + 1
	}
	return w.String()
}

// authority finds the authority of an absolute URI or a network-path
// reference (RFC 3986 §3: scheme "://" authority, or "//" authority),
// from after the "//" to the next '/' or the end; ok is false when v has
// none (a path, a relative reference, "mailto:...").
func authority(v string) (start, end int, ok bool) {
	i := 0
	for i < len(v) && isSchemeChar(v[i], i == 0) {
		i++
	}
	switch {
	case i > 0 && strings.HasPrefix(v[i:], "://"):
		start = i + len("://")
	case strings.HasPrefix(v, "//"):
		start = len("//")
	default:
		return 0, 0, false
	}
	end = strings.IndexByte(v[start:], '/')
	if end < 0 {
		return start, len(v), true
	}
	return start, start + end, true
}

// isSchemeChar reports whether c may stand in a URI scheme (RFC 3986 §3.1:
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )).
func isSchemeChar(c byte, first bool) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		return true
	case first:
		return false
	}
	return '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

// rewriter copies s with parts replaced, in order, allocating at the first
// replacement.
type rewriter struct {
	s    string
	b    []byte
	done int // s[:done] is in b, once b is set
}

// replace puts with in place of s[from:to]; from is not before the end of
// the previous replacement.
func (w *rewriter) replace(from, to int, with string) {
	if w.b == nil {
		w.b = make([]byte, 0, len(w.s))
	}
	w.b = append(w.b, w.s[w.done:from]...)
	w.b = append(w.b, with...)
	w.done = to
}

func (w *rewriter) String() string {
	if w.b == nil {
		return w.s
	}
	return string(append(w.b, w.s[w.done:]...))
}

// query is uri for a raw query.
func (p *Policy) query(q string) string {
	q, _ = p.params.StripLenient(q)
	if !strings.ContainsAny(q, "@%") {
		return q // no '@', not even encoded: no e-mail address
	}
	var kept []string
	removed := false
	for pair := range strings.FieldsFuncSeq(q, func(r rune) bool { return r == '&' || r == ';' }) {
		name, val, _ := strings.Cut(pair, "=")
		if looksLikeEmail(name) || looksLikeEmail(val) {
			removed = true
			continue
		}
		kept = append(kept, pair)
	}
	if !removed {
		return q
	}
	return strings.Join(kept, "&")
}

// looksLikeEmail reports whether a raw query component or path segment,
// once decoded (up to three times: double encoding is common in redirect
// chains), has the shape local@domain.tld: something before an '@', and
// after it a '.' that is neither its first nor its last character. Leading '@'s are a handle's sigil, not a
// local part ("@jane@social.example", a fediverse address, is one; "@jane"
// is none); trailing dots are a fully qualified domain's. It errs towards
// removing: "logo@2x.png" goes too, which costs a log line some detail,
// never privacy.
func looksLikeEmail(raw string) bool {
	s := raw
	for range 3 {
		d := percentDecode(s)
		if d == s {
			break
		}
		s = d
	}
	s = strings.TrimLeft(s, "@")
	at := strings.IndexByte(s, '@')
	if at <= 0 {
		return false
	}
	domain := strings.TrimRight(s[at+1:], ".")
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1
}

// percentDecode decodes %XX escapes and '+' leniently: a malformed escape
// stays as it is.
func percentDecode(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	return string(httpfield.AppendFormDecoded(make([]byte, 0, len(s)), s))
}
