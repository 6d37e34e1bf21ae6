package rules

import (
	"slices"
	"strings"
)

// Params is a set of query parameter names to remove from request URLs:
// exact names, and prefixes written with a trailing '*' ("utm_*"), each
// with the categories of the vendors whose tags read it. A parameter is
// removed when any common parser on the origin reads its name as one of
// them (see match).
type Params struct {
	exact    map[string]Set
	prefixes []paramPrefix
	all      Set // every category of an entry
	longest  int // the longest name or prefix, in bytes
}

type paramPrefix struct {
	prefix string
	cats   Set
}

// NewParams builds a Params from names ("gclid", "utm_*") that advertising
// tags read: the operator's own click ids.
func NewParams(names []string) *Params {
	p := new(Params)
	for _, n := range names {
		p.add(n, Advertising)
	}
	return p
}

// add lists name (a trailing '*' makes it a prefix) for category c.
func (p *Params) add(name string, c Category) {
	if p.exact == nil {
		p.exact = map[string]Set{}
	}
	name = strings.ToLower(name)
	if pre, ok := strings.CutSuffix(name, "*"); ok {
		i := slices.IndexFunc(p.prefixes, func(e paramPrefix) bool { return e.prefix == pre })
		if i < 0 {
			i = len(p.prefixes)
			p.prefixes = append(p.prefixes, paramPrefix{prefix: pre})
		}
		p.prefixes[i].cats = p.prefixes[i].cats.With(c)
	} else {
		p.exact[name] = p.exact[name].With(c)
	}
	p.all = p.all.With(c)
	p.longest = max(p.longest, len(name))
}

// Params returns the parameters the vendors of r read (their param lines),
// each for its vendor's category, and extra names for advertising (the
// operator's click_ids).
func (r *Rules) Params(extra []string) *Params {
	p := new(Params)
	for _, v := range r.vendors {
		for _, n := range v.Params {
			p.add(n, v.Category)
		}
	}
	for _, n := range extra {
		p.add(n, Advertising)
	}
	return p
}

// VendorParams returns the parameters the vendors in vs read (their param
// lines), for Strip: the click ids of vendors a visitor refused by name.
// nil when they read none.
func (r *Rules) VendorParams(vs VendorSet) *Params {
	var p *Params
	for i, v := range r.vendors {
		if !vs.has(int32(i)) {
			continue
		}
		for _, n := range v.Params {
			if p == nil {
				p = new(Params)
			}
			p.add(n, v.Category)
		}
	}
	return p
}

// Empty reports whether p removes nothing.
func (p *Params) Empty() bool { return p == nil || len(p.exact) == 0 && len(p.prefixes) == 0 }

// Denies reports whether some parameter of p is of a category not in
// granted: whether StripDenied can remove anything.
func (p *Params) Denies(granted Set) bool { return p != nil && p.all&^granted != 0 }

// StripDenied returns the raw query without the parameters of p whose
// vendors' categories are not all in granted, and how many it removed.
// Pairs are split at '&' only, as the WHATWG URL Standard's
// application/x-www-form-urlencoded parser splits them (and Go since 1.17,
// Python since 3.9.2, Rack 3, PHP and Node): in "a=1;gclid=2" the origin
// reads one pair, a, whose value holds the ';' text, so it stays. A removed
// pair goes with one adjacent '&' (the one after it, or the one before it
// when it is last) and every other byte stays as sent, so the origin, and a
// firewall in front of it, read exactly the pairs that were not removed. It
// allocates only when it removes something.
func (p *Params) StripDenied(raw string, granted Set) (string, int) {
	return p.strip(raw, "&", granted)
}

// Strip is StripDenied for a visitor who granted nothing: every parameter
// of p goes.
func (p *Params) Strip(raw string) (string, int) { return p.strip(raw, "&", 0) }

// StripLenient is Strip that also splits at ';', which some servers still
// read as a separator. It is for text that is only read, never parsed by
// the origin (a logged URI), where removing more is the safe side.
func (p *Params) StripLenient(raw string) (string, int) { return p.strip(raw, "&;", 0) }

// strip removes the pairs of raw, split at any byte of seps, whose name is
// in p for a category not in granted. Each kept pair is copied with the separator that follows it; when
// the last pair goes, the separator before it goes too.
func (p *Params) strip(raw, seps string, granted Set) (string, int) {
	if !p.Denies(granted) || raw == "" {
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
		lastRemoved = p.match(name)&^granted != 0
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
