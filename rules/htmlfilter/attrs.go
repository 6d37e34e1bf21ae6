package htmlfilter

import (
	"bytes"
	"encoding/base64"
	"html"
	"math/bits"
	"unicode/utf8"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// URL-bearing attributes, by index into a bit set (first occurrence wins).
const (
	aSrc = iota
	aHref
	aXlinkHref
	aSrcset
	aPoster
	aData
	aSrcdoc
	aImagesrcset
	aTo // SMIL animation values (set, animate)
	aFrom
	aBy
	aValues
)

var attrNames = [...]string{"src", "href", "xlink:href", "srcset", "poster", "data", "srcdoc", "imagesrcset",
	"to", "from", "by", "values"}

// loads lists, per kind, the attributes whose value a browser fetches
// (HTML Standard, each element's fetch). svg <image> and <script> load from href and xlink:href.
var loads = [numKinds]uint16{
	kScript: 1<<aSrc | 1<<aHref | 1<<aXlinkHref,
	kImg:    1<<aSrc | 1<<aSrcset | 1<<aHref | 1<<aXlinkHref,
	kSource: 1<<aSrc | 1<<aSrcset,
	kVideo:  1<<aSrc | 1<<aPoster,
	kAudio:  1 << aSrc,
	kTrack:  1 << aSrc,
	kEmbed:  1 << aSrc,
	kInput:  1 << aSrc,
	kObject: 1 << aData,
	kIframe: 1<<aSrc | 1<<aSrcdoc,
	kFrame:  1 << aSrc,
	kLink:   1<<aHref | 1<<aImagesrcset,
	// SVG: feImage fetches its image, cross-origin too; set and animate
	// give any attribute (an image's href, a fill's url()) a value that
	// loads (measured with Chromium).
	kFeImage: 1<<aHref | 1<<aXlinkHref,
	kAnimate: 1<<aTo | 1<<aFrom | 1<<aBy | 1<<aValues,
}

// urlAttr returns the index of name among the attributes that load for kind
// k, or -1.
func urlAttr(k kind, name []byte) int {
	if len(name) == 0 {
		return -1
	}
	// Most attributes of a held tag (class, alt, width, id) are ruled out
	// by their first byte.
	set := loads[k] & attrFirst[name[0]]
	for set != 0 {
		i := bits.TrailingZeros16(set)
		if httpfield.EqualFold(name, attrNames[i]) {
			return i
		}
		set &= set - 1
	}
	return -1
}

// attrFirst[c]: the attributes of attrNames whose name starts with c, in
// either case.
var attrFirst = func() (t [256]uint16) {
	for i, n := range attrNames {
		t[n[0]] |= 1 << i
		t[n[0]-'a'+'A'] |= 1 << i
	}
	return t
}()

// verdict asks the policy about every main loading attribute of the current
// tag and returns the first blocking answer. Side loads (srcset, poster) are
// left to trimLoad: they never remove the element.
func (f *Filter) verdict(k kind) Verdict {
	if k == kMeta {
		return f.refresh()
	}
	if loads[k] == 0 {
		return Verdict{}
	}
	base := f.d[f.tok:]
	var seen uint16
	for _, a := range f.attrs {
		name := base[a.name:a.nameEnd]
		if k == kScript && a.val >= 0 && lazyName(name) {
			// A parked script's URL: the script's load once revived.
			if v := f.lazyVerdict(name, f.decode(base[a.val:a.valEnd])); v.Block {
				f.lazyHit = true
				return v
			}
			continue
		}
		i := urlAttr(k, name)
		if i < 0 || seen&(1<<i) != 0 || sideLoads&(1<<i) != 0 {
			continue
		}
		seen |= 1 << i
		if a.val < 0 {
			continue
		}
		val := f.decode(base[a.val:a.valEnd])
		var v Verdict
		switch i {
		case aSrcdoc:
			v = f.srcdoc(val)
		case aTo, aFrom, aBy, aValues:
			v = f.animationValues(val)
		default:
			if doc, ok := htmlDataURL(k, val, f.scratch2[:0]); ok {
				// A frame's data: document is read as the document it is,
				// like srcdoc; the policy still reads the URL too.
				f.scratch2 = doc
				if v = f.srcdoc(doc); v.Block {
					break
				}
			}
			v = f.policy.URL(val)
		}
		if v.Block {
			return v
		}
	}
	return f.unclassified(k)
}

// unclassified asks the policy about a source no rule of its names, for
// the elements whose unnamed loads it decides: scripts, frames and pixels.
func (f *Filter) unclassified(k kind) Verdict {
	if f.unclass == nil || k != kScript && k != kIframe && k != kFrame && (k != kImg || !f.pixel()) {
		return Verdict{}
	}
	src, ok := f.attr("src")
	if !ok && k == kScript {
		src, ok = f.lazyAttr()
	}
	if !ok || len(src) == 0 {
		return Verdict{}
	}
	return f.unclass.Unclassified(f.decode(src))
}

// pixel reports whether the current img is a tracking pixel's shape: both
// dimensions at most one pixel, either of them zero, or hidden (the hidden
// attribute, or a style with display:none or visibility:hidden).
func (f *Filter) pixel() bool {
	w, wok := f.dimension("width")
	h, hok := f.dimension("height")
	switch {
	case wok && hok && w <= 1 && h <= 1, wok && w == 0, hok && h == 0:
		return true
	}
	if _, ok := f.attr("hidden"); ok {
		return true
	}
	style, ok := f.attr("style")
	if !ok {
		return false
	}
	var buf [256]byte // a pixel's style is short; past this it is not looked at
	compact := buf[:0]
	for _, c := range f.decode(style) {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c > ' ' && len(compact) < len(buf) {
			compact = append(compact, c)
		}
	}
	return bytes.Contains(compact, []byte("display:none")) || bytes.Contains(compact, []byte("visibility:hidden"))
}

// dimension reads a width or height attribute as HTML's rules for
// dimension values begin: leading whitespace, then digits (a unit or a
// fraction after them is ignored).
func (f *Filter) dimension(name string) (int, bool) {
	v, ok := f.attr(name)
	if !ok {
		return 0, false
	}
	v = trim(f.decode(v))
	n, digits := 0, 0
	for ; digits < len(v) && '0' <= v[digits] && v[digits] <= '9' && n < 1<<20; digits++ {
		n = n*10 + int(v[digits]-'0')
	}
	return n, digits > 0
}

// animationValues decides the values an SVG set or animate gives an
// attribute: a list separated by ';' (SVG animations), each item read both
// as CSS (a fill or mask url()) and as a URL (an href), since the attribute
// it animates is not looked at.
func (f *Filter) animationValues(s []byte) Verdict {
	for item := range bytes.SplitSeq(s, []byte(";")) {
		item = trim(item)
		if v := f.styleVerdict(item); v.Block {
			return v
		}
		if v := f.policy.URL(item); v.Block {
			return v
		}
	}
	return Verdict{}
}

// refresh reads <meta http-equiv=refresh content="5; url=...">.
func (f *Filter) refresh() Verdict {
	eq, ok := f.attr("http-equiv")
	if !ok || !httpfield.EqualFold(trim(f.decode(eq)), "refresh") {
		return Verdict{}
	}
	content, ok := f.attr("content")
	if !ok {
		return Verdict{}
	}
	if u := RefreshURL(f.decode(content)); len(u) > 0 {
		return f.policy.URL(u)
	}
	return Verdict{}
}

// RefreshURL returns the URL a refresh declaration ("5; url=...", the
// content of <meta http-equiv=refresh> or a Refresh header field) navigates
// to, or nil (HTML §4.2.5.3 "shared declarative refresh steps").
func RefreshURL(s []byte) []byte {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	for i < len(s) && ('0' <= s[i] && s[i] <= '9' || s[i] == '.') {
		i++ // the delay
	}
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i < len(s) && (s[i] == ';' || s[i] == ',') {
		i++
	}
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i+3 <= len(s) && httpfield.EqualFold(s[i:i+3], "url") {
		j := i + 3
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '=' {
			i = j + 1
			for i < len(s) && isSpace(s[i]) {
				i++
			}
		}
	}
	u := s[i:]
	if len(u) > 0 && (u[0] == '"' || u[0] == '\'') {
		q := u[0]
		u = u[1:]
		if j := bytes.IndexByte(u, q); j >= 0 {
			u = u[:j]
		}
	}
	return trim(u)
}

// htmlDataURL decodes, into dst, the document of a data: URL that a frame
// (iframe, frame, object, embed) would show as HTML, XHTML or SVG (Fetch
// "data: URL processor": media type up to ',', ";base64" decodes base64,
// else percent-decoding). ok is false for anything else.
func htmlDataURL(k kind, u, dst []byte) ([]byte, bool) {
	switch k {
	case kIframe, kFrame, kObject, kEmbed:
	default:
		return nil, false
	}
	u = trimC0(u)
	if len(u) < 5 || !httpfield.EqualFold(u[:5], "data:") {
		return nil, false
	}
	comma := bytes.IndexByte(u, ',')
	if comma < 0 {
		return nil, false
	}
	mt, body := u[5:comma], u[comma+1:]
	if i := bytes.IndexByte(body, '#'); i >= 0 {
		body = body[:i] // the fragment is not data
	}
	if !httpfield.ContainsFold(mt, "html") && !httpfield.ContainsFold(mt, "xml") && !httpfield.ContainsFold(mt, "svg") {
		return nil, false
	}
	dst = httpfield.AppendPercentDecoded(dst, body)
	if m := bytes.TrimRight(mt, " \t\n\f\r"); len(m) >= 7 && httpfield.EqualFold(m[len(m)-7:], ";base64") {
		b := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\f' || r == '\r' {
				return -1 // forgiving-base64 drops ASCII whitespace
			}
			return r
		}, dst)
		b = bytes.TrimRight(b, "=")
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(b)))
		n, err := base64.RawStdEncoding.Decode(out, b)
		if err != nil {
			return nil, false // a network error in browsers: no document
		}
		return out[:n], true
	}
	return dst, true
}

// trimC0 drops leading and trailing C0 controls and spaces, as URL parsing does.
func trimC0(u []byte) []byte {
	for len(u) > 0 && u[0] <= ' ' {
		u = u[1:]
	}
	for len(u) > 0 && u[len(u)-1] <= ' ' {
		u = u[:len(u)-1]
	}
	return u
}

// srcdoc reads an iframe's srcdoc as the document it is.
func (f *Filter) srcdoc(doc []byte) Verdict {
	if f.depth >= 3 {
		return Verdict{Block: true, Vendor: VendorAmbiguous}
	}
	c := f.checker()
	c.Write(doc)
	c.Close()
	if c.blocked {
		if c.why.Block {
			return c.why
		}
		return Verdict{Block: true, Vendor: VendorAmbiguous}
	}
	return Verdict{}
}

// deferTag writes the start tag d[tok:end] inert: URL attributes renamed to
// data-*, a script's type to data-type, and type="text/plain" (scripts) and
// data-category inserted right after the tag name, where they win over any
// later duplicate (HTML §13.2.5.33: the first of duplicate attributes wins).
func (f *Filter) deferTag(k kind, v Verdict, end int) {
	base := f.tok
	f.hold = base + f.nameEnd
	prefix := "data-"
	if dl := f.opt.Dialect; dl != nil {
		_, typed := f.attr("type")
		f.insert([]byte(dl.Attrs(v, k == kScript, typed)))
		if dl.SrcPrefix != "" {
			prefix = dl.SrcPrefix
		}
	} else {
		if k == kScript {
			f.insert([]byte(` type="text/plain"`))
		}
		f.insert([]byte(` data-category="`))
		f.insert(escapeAttr(f.scratch[:0], v.Category))
		f.insert([]byte(`"`))
	}
	for _, a := range f.attrs {
		name := f.d[base+int(a.name) : base+int(a.nameEnd)]
		rename := urlAttr(k, name) >= 0 || k == kScript && httpfield.EqualFold(name, "type")
		if !rename {
			if f.watched(k, name) && a.val >= 0 {
				if wv := f.watchVerdict(name, f.d[base+int(a.val):base+int(a.valEnd)]); wv.Block {
					f.count(wv)
					f.hold = base + int(a.name)
					f.spill()
					f.keep, f.hold = base+int(a.end), base+int(a.end)
				}
			}
			continue
		}
		if k != kScript || !httpfield.EqualFold(name, "type") {
			if f.renamedDenied(prefix, name, a, v) {
				f.hold = base + int(a.name)
				f.spill()
				f.keep, f.hold = base+int(a.end), base+int(a.end)
				continue
			}
		}
		f.hold = base + int(a.name)
		if k == kScript && httpfield.EqualFold(name, "type") {
			f.insert([]byte("data-"))
		} else {
			f.insert([]byte(prefix))
		}
		for _, c := range name {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			} else if c == ':' {
				c = '-'
			}
			f.out = append(f.gathering(), c)
		}
		f.keep, f.hold = base+int(a.nameEnd), base+int(a.nameEnd)
	}
	f.hold = end
}

// escapeAttr appends s escaped for a double-quoted attribute value.
func escapeAttr(dst []byte, s string) []byte {
	for i := range len(s) {
		switch c := s[i]; c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// decode returns an attribute value as the browser reads it: character
// references decoded by the attribute rules of HTML §13.2.5.72–80 and NUL
// replaced. The common case, a value without '&' or NUL, costs nothing.
func (f *Filter) decode(v []byte) []byte {
	if bytes.IndexByte(v, '&') < 0 && bytes.IndexByte(v, 0) < 0 {
		return v
	}
	out := f.scratch[:0]
	for i := 0; i < len(v); {
		switch c := v[i]; c {
		case 0:
			out = utf8.AppendRune(out, utf8.RuneError)
			i++
		case '&':
			n, dec := charRef(v[i:])
			if n == 0 {
				out = append(out, '&')
				i++
				continue
			}
			out = append(out, dec...)
			i += n
		default:
			out = append(out, c)
			i++
		}
	}
	f.scratch = out
	return out
}

// charRef decodes the character reference at the start of s (s[0] == '&') in
// an attribute value. It returns how many bytes it consumed (0: none, the '&'
// is literal) and the decoded text.
func charRef(s []byte) (int, string) {
	if len(s) > 1 && s[1] == '#' {
		return numericRef(s)
	}
	n := 1
	for n < len(s) && n < 64 && (isAlpha(s[n]) || '0' <= s[n] && s[n] <= '9') {
		n++
	}
	if n == 1 {
		return 0, ""
	}
	if n < len(s) && s[n] == ';' {
		// The references URLs carry ("?a=1&amp;b=2"), without the
		// allocations of the table lookup below.
		switch string(s[1:n]) {
		case "amp":
			return n + 1, "&"
		case "quot":
			return n + 1, `"`
		case "apos":
			return n + 1, "'"
		case "lt":
			return n + 1, "<"
		case "gt":
			return n + 1, ">"
		}
	}
	name := string(s[1:n])
	if n < len(s) && s[n] == ';' {
		// html.UnescapeString knows the whole named reference table; a
		// full match consumes the ';'.
		if r := html.UnescapeString("&" + name + ";"); r == ";" || r != "&"+name+";" && r[len(r)-1] != ';' {
			return n + 1, r
		}
	}
	// Legacy references without ';' (&amp, &copy...): the longest prefix
	// matches, but in an attribute a match followed by '=' or an alphanumeric
	// stays literal (§13.2.5.73, "historical reasons"). A run followed by '='
	// is literal either way: the common "?a=1&b=2" costs no lookup.
	if n < len(s) && s[n] == '=' {
		return 0, ""
	}
	r := html.UnescapeString("&" + name)
	if r == "&"+name {
		return 0, ""
	}
	if c := r[len(r)-1]; isAlpha(c) || '0' <= c && c <= '9' {
		return 0, "" // matched a prefix only: the next byte is alphanumeric
	}
	return n, r
}

// numericRef decodes "&#ddd;" or "&#xhh;" (the ';' optional, leading zeros
// allowed) per §13.2.5.75–80.
func numericRef(s []byte) (int, string) {
	i, hex := 2, false
	if i < len(s) && s[i]|0x20 == 'x' {
		hex = true
		i++
	}
	start := i
	var v rune
	for ; i < len(s); i++ {
		c := s[i]
		var d rune
		switch {
		case '0' <= c && c <= '9':
			d = rune(c - '0')
		case hex && 'a' <= c|0x20 && c|0x20 <= 'f':
			d = rune(c|0x20-'a') + 10
		default:
			goto done
		}
		if hex {
			v = v*16 + d
		} else {
			v = v*10 + d
		}
		if v > 0x10FFFF {
			v = 0x110000 // stays out of range however many digits follow
		}
	}
done:
	if i == start {
		return 0, ""
	}
	if i < len(s) && s[i] == ';' {
		i++
	}
	switch {
	case v == 0, v > 0x10FFFF, 0xD800 <= v && v <= 0xDFFF:
		v = utf8.RuneError
	case 0x80 <= v && v <= 0x9F:
		if r := win1252[v-0x80]; r != 0 {
			v = r
		}
	}
	return i, string(v)
}

// win1252 maps C1 control references to what browsers show (§13.2.5.80).
var win1252 = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}
