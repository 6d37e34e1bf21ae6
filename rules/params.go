package rules

import "strings"

// DefaultClickIDs are the query parameters that carry an ad click's
// identifier to the landing page, where the vendor's tag reads it: Google Ads
// (gclid, gbraid, wbraid), Campaign Manager (dclid), Meta (fbclid), Microsoft
// Advertising (msclkid), TikTok (ttclid), LinkedIn (li_fat_id), X (twclid)
// and Pinterest (epik).
var DefaultClickIDs = []string{"gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "ttclid", "li_fat_id", "twclid", "epik"}

// Params is a set of query parameter names to remove from request URLs:
// exact names, and prefixes written with a trailing '*' ("utm_*"). A
// parameter is removed when any common parser on the origin reads its name
// as one of them (see match).
type Params struct {
	exact    map[string]bool
	prefixes []string
	longest  int // the longest name or prefix, in bytes
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
		p.longest = max(p.longest, len(n))
	}
	return p
}

// Empty reports whether p removes nothing.
func (p *Params) Empty() bool { return p == nil || len(p.exact) == 0 && len(p.prefixes) == 0 }

// Strip returns the raw query without the parameters in p, and how many it
// removed. Pairs are split at '&' only, as the WHATWG URL Standard's
// application/x-www-form-urlencoded parser splits them (and Go since 1.17,
// Python since 3.9.2, Rack 3, PHP and Node): in "a=1;gclid=2" the origin
// reads one pair, a, whose value holds the ';' text, so it stays. A removed
// pair goes with one adjacent '&' (the one after it, or the one before it
// when it is last) and every other byte stays as sent, so the origin, and a
// firewall in front of it, read exactly the pairs that were not removed. It
// allocates only when it removes something.
func (p *Params) Strip(raw string) (string, int) { return p.strip(raw, "&") }

// StripLenient is Strip that also splits at ';', which some servers still
// read as a separator. It is for text that is only read, never parsed by
// the origin (a logged URI), where removing more is the safe side.
func (p *Params) StripLenient(raw string) (string, int) { return p.strip(raw, "&;") }

// strip removes the pairs of raw, split at any byte of seps, whose name is
// in p. Each kept pair is copied with the separator that follows it; when
// the last pair goes, the separator before it goes too.
func (p *Params) strip(raw, seps string) (string, int) {
	if p.Empty() || raw == "" {
		return raw, 0
	}
	var b []byte
	n := 0
	lastRemoved := false
	for start := 0; start <= len(raw); {
		end, next := len(raw), len(raw)+1
		if i := strings.IndexAny(raw[start:], seps); i >= 0 {
			end, next = start+i, start+i+1
		}
		name, _, _ := strings.Cut(raw[start:end], "=")
		lastRemoved = p.match(name)
		switch {
		case lastRemoved && b == nil:
			b = append(make([]byte, 0, len(raw)), raw[:start]...)
			n++
		case lastRemoved:
			n++
		case b != nil:
			b = append(b, raw[start:min(next, len(raw))]...)
		}
		start = next
	}
	if n == 0 {
		return raw, 0
	}
	if lastRemoved && len(b) > 0 {
		b = b[:len(b)-1] // the separator of the last kept pair
	}
	return string(b), n
}
