package caddymodule

import "strings"

// This file takes what may identify a visitor out of the URIs the privacy
// log encoder writes: request URIs, Referer and Location.

// uri takes identifying query parameters and the fragment out of a URI
// (origin-form, absolute or a Referer): click ids, the configured names,
// and parameters whose name or value looks like an e-mail address. The
// fragment goes whole: a Location's fragment can hold tokens (OAuth's
// implicit flow), and request URIs never have one.
func (p *privacyPolicy) uri(v string) string {
	if i := strings.IndexByte(v, '#'); i >= 0 {
		v = v[:i]
	}
	path, q, ok := strings.Cut(v, "?")
	if !ok {
		return v
	}
	if q = p.query(q); q == "" {
		return path
	}
	return path + "?" + q
}

// query is uri for a raw query.
func (p *privacyPolicy) query(q string) string {
	q, _ = p.params.Strip(q)
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

// looksLikeEmail reports whether a raw query component, once decoded (up to
// three times: double encoding is common in redirect chains), has the shape
// local@domain.tld. It errs towards removing: "logo@2x.png" goes too,
// which costs a log line some detail, never privacy.
func looksLikeEmail(raw string) bool {
	s := raw
	for range 3 {
		d := percentDecode(s)
		if d == s {
			break
		}
		s = d
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 {
		return false
	}
	domain := s[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1
}

// percentDecode decodes %XX escapes and '+' leniently: a malformed escape
// stays as it is.
func percentDecode(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]):
			c = unhexDigit(s[i+1])<<4 | unhexDigit(s[i+2])
			i += 2
		}
		b = append(b, c)
	}
	return string(b)
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhexDigit(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
