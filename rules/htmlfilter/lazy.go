package htmlfilter

import (
	"bytes"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// Parked loads: markup that loads nothing as the browser reads it, but that
// client code turns into a load later. Page-speed tools park scripts under
// a type the browser does not run (WP Rocket's rocketlazyloadscript,
// LiteSpeed's litespeed/javascript, Partytown's text/partytown) and lazy
// loaders park URLs in data-* attributes (lazysizes' data-src, WP Rocket's
// data-lazy-src and data-bg); consent tools park both (type="text/plain"
// with data-src). Such markup is judged as the load it becomes, whatever it
// claims: see docs/how-it-works.md, "Parked loads".

// maxLazyName bounds the data-* names read as parked URLs, so that the
// streaming path (which holds a name until it is whole) holds a bounded
// number of bytes, and every path agrees on which names count.
const maxLazyName = 48

// lazyName reports whether an attribute name is one that lazy loaders and
// consent tools keep a URL in: a data-* name that ends in src, srcset, href,
// url, bg, bgset, background, background-image, bg-image, poster, original,
// lazy or delayedscript, or starts with data-src (data-src, data-lazy-srcset,
// data-rocket-src, data-wpmeteor-src, data-bg, data-background-image,
// data-original, Perfmatters' data-pmdelayedscript, data-src-retina, ...),
// or NitroPack's nitro-lazy-* (not data-* at all).
func lazyName(name []byte) bool {
	if len(name) <= len("data-") || len(name) > maxLazyName {
		return false
	}
	switch name[0] | 0x20 {
	case 'd':
		return name[4] == '-' && httpfield.EqualFold(name[1:4], "ata") && lazyWord(name[5:])
	case 'n':
		return httpfield.HasPrefixFold(name, "nitro-lazy-")
	}
	return false
}

// lazyWord reports whether the part of a data-* name after "data-" names
// a parked URL: it ends in src, srcset, href, url, bg, bgset, background,
// background-image, bg-image, poster, original, lazy or delayedscript, or
// starts with src. It runs for every data-* attribute of a page
// (data-tracking-label, data-v-1a2b3c, ...): the last byte picks the one
// to three words to compare.
func lazyWord(s []byte) bool {
	if httpfield.HasPrefixFold(s, "src") {
		return true
	}
	switch s[len(s)-1] | 0x20 {
	case 'c':
		return httpfield.HasSuffixFold(s, "src")
	case 't':
		return httpfield.HasSuffixFold(s, "srcset") || httpfield.HasSuffixFold(s, "bgset") ||
			httpfield.HasSuffixFold(s, "delayedscript")
	case 'f':
		return httpfield.HasSuffixFold(s, "href")
	case 'l':
		return httpfield.HasSuffixFold(s, "url") || httpfield.HasSuffixFold(s, "original")
	case 'g':
		return httpfield.HasSuffixFold(s, "bg")
	case 'd':
		return httpfield.HasSuffixFold(s, "background")
	case 'e':
		return httpfield.HasSuffixFold(s, "background-image") || httpfield.HasSuffixFold(s, "bg-image")
	case 'r':
		return httpfield.HasSuffixFold(s, "poster")
	case 'y':
		return httpfield.HasSuffixFold(s, "lazy")
	}
	return false
}

// mayBeLazy reports whether a name cut short may yet become a lazy one:
// it could still be, or already is, "data-" or "nitro-lazy-" followed by
// at most maxLazyName bytes in all.
func mayBeLazy(part []byte) bool {
	if len(part) > maxLazyName {
		return false
	}
	for _, p := range [...]string{"data-", "nitro-lazy-"} {
		if n := min(len(part), len(p)); httpfield.HasPrefixFold(part[:n], p[:n]) {
			return true
		}
	}
	return false
}

// lazyVerdict decides the decoded value of a parked URL attribute: a srcset
// for the names that hold one (data-srcset, lazysizes' data-bgset), a CSS
// url() where a background loader keeps one (data-bg="url(...)"), else a
// URL.
func (f *Filter) lazyVerdict(name, val []byte) Verdict {
	if httpfield.ContainsFold(name, "srcset") || httpfield.ContainsFold(name, "bgset") {
		return f.srcset(val)
	}
	if bytes.IndexByte(val, '(') >= 0 {
		if v := f.styleVerdict(val); v.Block {
			return v
		}
	}
	return f.policy.URL(trim(val))
}

// renamedDenied reports whether the URL attribute a, renamed prefix+name by
// deferTag, would be a parked URL of a denied vendor that the label of v
// does not cover (a duplicate src that does not parse, a candidate of
// another category): it goes now, as filtering the output again would drop
// it, so that the output is a fixed point.
func (f *Filter) renamedDenied(prefix string, name []byte, a attr, v Verdict) bool {
	var buf [maxLazyName]byte
	if a.val < 0 || len(prefix)+len(name) > len(buf) {
		return false
	}
	renamed := append(append(buf[:0], prefix...), name...)
	if !lazyName(renamed) {
		return false
	}
	lv := f.lazyVerdict(renamed, f.decode(f.d[f.tok+int(a.val):f.tok+int(a.valEnd)]))
	if lv.Block && lv.Category != v.Category {
		f.count(lv)
		return true
	}
	return false
}

// lazyAttr returns the raw value of the current tag's first parked URL
// attribute (a script parked by a page-speed tool has no src).
func (f *Filter) lazyAttr() ([]byte, bool) {
	base := f.d[f.tok:]
	for _, a := range f.attrs {
		if a.val >= 0 && lazyName(base[a.name:a.nameEnd]) {
			return base[a.val:a.valEnd], true
		}
	}
	return nil, false
}

// labelled reports whether the current start tag, blocked with verdict v
// for a parked load, is already parked the way Defer mode parks it: the
// attributes right after its name are exactly the ones deferTag would
// insert for v. Such an element (Defer mode's own output, or one that the
// origin's consent tool parked under the right category) stays as it is:
// the consent tool revives it only on consent.
func (f *Filter) labelled(k kind, v Verdict) bool {
	if f.opt.Mode != Defer || v.Category == "" {
		return false
	}
	after := f.d[f.tok+f.nameEnd:]
	script := k == kScript
	if dl := f.opt.Dialect; dl != nil {
		return hasPrefix(after, dl.Attrs(v, script, false)) || hasPrefix(after, dl.Attrs(v, script, true))
	}
	if script {
		const t = ` type="text/plain"`
		if !hasPrefix(after, t) {
			return false
		}
		after = after[len(t):]
	}
	const c = ` data-category="`
	if !hasPrefix(after, c) {
		return false
	}
	after = after[len(c):]
	esc := escapeAttr(f.scratch[:0], v.Category)
	f.scratch = esc
	return bytes.HasPrefix(after, esc) && len(after) > len(esc) && after[len(esc)] == '"'
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }
