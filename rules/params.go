package rules

import "strings"

// DefaultClickIDs are the query parameters that carry an ad click's
// identifier to the landing page, where the vendor's tag reads it: Google Ads
// (gclid, gbraid, wbraid), Campaign Manager (dclid), Meta (fbclid), Microsoft
// Advertising (msclkid), TikTok (ttclid), LinkedIn (li_fat_id), X (twclid)
// and Pinterest (epik).
var DefaultClickIDs = []string{"gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "ttclid", "li_fat_id", "twclid", "epik"}

// Params is a set of query parameter names to remove from request URLs:
// exact names, and prefixes written with a trailing '*' ("utm_*"). Names
// match ASCII case-insensitively and after percent-decoding, because the
// origin's query parser decodes ("gcl%69d" is gclid to it) and a tag that
// reads "GCLID" is no less a click identifier.
type Params struct {
	exact    map[string]bool
	prefixes []string
}

// NewParams builds a Params from names ("gclid", "utm_*").
func NewParams(names []string) *Params {
	p := &Params{exact: map[string]bool{}}
	for _, n := range names {
		n = strings.ToLower(n)
		if pre, ok := strings.CutSuffix(n, "*"); ok {
			p.prefixes = append(p.prefixes, pre)
		} else {
			p.exact[n] = true
		}
	}
	return p
}

// Empty reports whether p removes nothing.
func (p *Params) Empty() bool { return p == nil || len(p.exact) == 0 && len(p.prefixes) == 0 }

// Strip returns the raw query without the parameters in p, and how many it
// removed. The rest stays byte for byte and in order. Parameters are split at
// '&' and also at ';', which some servers still read as a separator (and
// which Go's own parser rejects): a click id hidden behind a ';' is removed
// too. It allocates only when it removes something.
func (p *Params) Strip(raw string) (string, int) {
	if p.Empty() || raw == "" {
		return raw, 0
	}
	var b []byte
	n := 0
	last := 0 // raw[last:start] is kept and not yet copied
	for start := 0; start <= len(raw); {
		end := strings.IndexAny(raw[start:], "&;")
		if end < 0 {
			end = len(raw)
		} else {
			end += start
		}
		name, _, _ := strings.Cut(raw[start:end], "=")
		if p.match(name) {
			if b == nil {
				b = make([]byte, 0, len(raw))
			}
			b = appendJoined(b, raw[last:max(start-1, last)])
			last = end + 1
			n++
		}
		start = end + 1
	}
	if n == 0 {
		return raw, 0
	}
	if last < len(raw) {
		b = appendJoined(b, raw[last:])
	}
	return string(b), n
}

// appendJoined appends a kept run of parameters, with an '&' between it and
// what b holds.
func appendJoined(b []byte, run string) []byte {
	if run == "" {
		return b
	}
	if len(b) > 0 {
		b = append(b, '&')
	}
	return append(b, run...)
}

// match reports whether a raw (still percent-encoded) parameter name is in p.
func (p *Params) match(raw string) bool {
	if len(raw) > 64 {
		return false // no click id is that long; keeps the decoding bounded
	}
	var buf [64]byte
	name := buf[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(raw) && isHex(raw[i+1]) && isHex(raw[i+2]):
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		name = append(name, c)
	}
	if p.exact[string(name)] {
		return true
	}
	for _, pre := range p.prefixes {
		if strings.HasPrefix(string(name), pre) {
			return true
		}
	}
	return false
}
