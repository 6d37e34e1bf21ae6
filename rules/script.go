package rules

import (
	"slices"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/consentedge/consentedge/internal/httpfield"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// normalizeScript appends to dst a form of the script src in which a tracker
// loader reads the same however it was written, in one pass:
//
//   - JavaScript escapes are decoded (ECMA-262 §12.9.4: \xNN, \uNNNN, \u{N..}
//     and the identity escape \/), so "https:\/\/connect.facebook.net" and
//     "\x2f\x2f" read as slashes;
//   - constant string concatenations are folded: a quote, optional whitespace,
//     '+', optional whitespace and a quote (any mix of ' " `) are dropped, so
//     'https://connect.' + "facebook.net" reads as one literal;
//   - every quote (' " `) becomes ', so one signature covers all quote styles;
//   - whitespace next to punctuation is dropped and other whitespace runs become
//     one space, so "gtag( 'config', 'G-1' )" reads as "gtag('config','g-1')";
//   - ASCII letters are lowercased (bytes >= 0x80 are kept).
//
// Signatures in rules files go through the same function, so they match
// whatever spacing and quotes their authors used. This is deliberately not a
// JavaScript lexer: it over-reads (a "\x41" inside a regular expression is
// decoded too), which can only make more patterns match.
func normalizeScript(dst, src []byte) []byte {
	n := len(src)
	for i := 0; i < n; {
		c := src[i]
		if o := plainNorm[c]; o != 0 {
			// The common byte (letters, digits, most punctuation): its
			// normal form, with no decision to make.
			dst = append(dst, o)
			i++
			continue
		}
		switch {
		case c == '\\' && i+1 < n:
			r, w := jsEscape(src[i:])
			i += w
			switch {
			case r == '\t' || r == '\n' || r == '\r':
				// The URL parser removes them wherever they are:
				// 'https://www.facebook.com/t\nr' loads /tr.
			case r == '\\':
				// A backslash in a string is a slash to the URL parser
				// (special schemes): 'https:\\host\\tr' is https://host/tr.
				dst = append(dst, '/')
			case r < utf8.RuneSelf:
				dst = append(dst, normByte(byte(r)))
			default:
				var b [utf8.UTFMax]byte
				dst = appendFolded(dst, r, b[:utf8.EncodeRune(b[:], r)])
			}
		case c == 0:
			// The tokenizer gives a script or an attribute U+FFFD for a
			// NUL (HTML §13.2.5.4, §13.2.5.36): no host has it, where the
			// URL parser would strip a NUL at a URL's end (FuzzFilterRules
			// found "alb.reddit.com!0\x00" read as a host of its own).
			dst = append(dst, "\uFFFD"...)
			i++
		case c >= utf8.RuneSelf:
			r, w := utf8.DecodeRune(src[i:])
			dst = appendFolded(dst, r, src[i:i+w])
			i += w
		case c == '%' && i+2 < n && httpfield.IsHex(src[i+1]) && httpfield.IsHex(src[i+2]) &&
			isUnreserved(httpfield.Unhex(src[i+1])<<4|httpfield.Unhex(src[i+2])):
			// The URL parser decodes a host's percent-escapes and the
			// rules read a path's unreserved ones as themselves:
			// 'https://%77ww.facebook.com/t%72' names www.facebook.com/tr.
			dst = append(dst, normByte(httpfield.Unhex(src[i+1])<<4|httpfield.Unhex(src[i+2])))
			i += 3
		case c == '$' && i+1 < n && src[i+1] == '{':
			// A template literal's constant interpolation reads as its text:
			// `https://static.${'hot'}jar.com` is one literal.
			if j, ok := constInterpolation(src, i+2); ok {
				dst = normalizeScript(dst, foldedLiterals(src[i+2:j]))
				i = j + 1
				continue
			}
			dst = append(dst, c)
			i++
		case c == '\'' || c == '"' || c == '`':
			if j := foldConcat(src, i); j > 0 {
				i = j
				continue
			}
			dst = append(dst, '\'')
			i++
		case isJSSpace(c):
			j := i + 1
			for j < n && isJSSpace(src[j]) {
				j++
			}
			if !(len(dst) > 0 && isGluePunct(dst[len(dst)-1]) || j < n && isGluePunct(normByte(src[j])) || j == n) {
				dst = append(dst, ' ')
			}
			i = j
		default:
			dst = append(dst, normByte(c))
			i++
		}
	}
	return dst
}

// foldConcat reports where a "'␣*+␣*'" join starting at the quote src[i]
// ends (the index after its second quote), or 0.
func foldConcat(src []byte, i int) int {
	j := i + 1
	for j < len(src) && isJSSpace(src[j]) {
		j++
	}
	if j >= len(src) || src[j] != '+' {
		return 0
	}
	j++
	for j < len(src) && isJSSpace(src[j]) {
		j++
	}
	if j < len(src) && (src[j] == '\'' || src[j] == '"' || src[j] == '`') {
		return j + 1
	}
	return 0
}

// appendFolded appends the non-ASCII rune r (raw: its bytes in the source)
// as a hostname would read it after the URL parser's IDNA mapping (UTS #46),
// as far as that mapping yields what the rules are written in: a rune whose
// compatibility decomposition is ASCII letters, digits, '.' or '-' becomes
// them ("ｐｘ" and "𝐩𝐱" are "px"), the ideographic full stops become '.',
// and the characters the mapping ignores (soft hyphen, zero-width and
// variation marks) vanish. Any other rune is kept as it is. The NFKC
// property lookup is a table read; it does not allocate.
func appendFolded(dst []byte, r rune, raw []byte) []byte {
	switch {
	case r == 0x3002 || r == 0xFF61:
		return append(dst, '.')
	case r == 0x00AD || r == 0x034F || r == 0x200B || r == 0x2060 || r == 0xFEFF ||
		0x180B <= r && r <= 0x180F || 0xFE00 <= r && r <= 0xFE0F || 0x1BCA0 <= r && r <= 0x1BCA3:
		return dst
	case r == utf8.RuneError:
		return append(dst, raw...)
	}
	d := norm.NFKC.Properties(raw).Decomposition()
	if len(d) == 0 {
		return append(dst, raw...)
	}
	for _, c := range d {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return append(dst, raw...)
		}
	}
	for _, c := range d {
		dst = append(dst, normByte(c))
	}
	return dst
}

// maxInterpolation bounds the ${…} a template literal fold looks into.
const maxInterpolation = 512

// constInterpolation reports whether src[at:] (just after "${") holds only
// string literals joined by '+' up to a closing '}', and where that '}' is.
// Literals may hold escapes but no quote of their own kind.
func constInterpolation(src []byte, at int) (int, bool) {
	end := min(len(src), at+maxInterpolation)
	i, lits := at, 0
	for {
		for i < end && isJSSpace(src[i]) {
			i++
		}
		if i >= end {
			return 0, false
		}
		q := src[i]
		if q != '\'' && q != '"' && q != '`' {
			return 0, false
		}
		for i++; i < end && src[i] != q; i++ {
			switch {
			case src[i] == '\\':
				i++ // the escaped character, which may be a quote
			case src[i] == '\n' && q != '`':
				return 0, false // not a string literal
			}
		}
		if i >= end {
			return 0, false
		}
		i++ // the closing quote
		lits++
		for i < end && isJSSpace(src[i]) {
			i++
		}
		if i < end && src[i] == '}' {
			return i, lits > 0
		}
		if i >= end || src[i] != '+' {
			return 0, false
		}
		i++
	}
}

// foldedLiterals returns the literal text of a constant interpolation body
// (checked by constInterpolation) with its quotes and joins removed: what
// normalizeScript would make of it, but without quote marks, since the text
// continues the enclosing template literal. It returns a subslice when there
// is one literal and otherwise copies (rare: a join inside ${…}).
func foldedLiterals(body []byte) []byte {
	var out []byte
	n, start := 0, -1
	for i := 0; i < len(body); i++ {
		c := body[i]
		if start < 0 {
			if c == '\'' || c == '"' || c == '`' {
				start = i + 1
			}
			continue
		}
		if c == '\\' {
			i++
			continue
		}
		if c == body[start-1] {
			if n == 0 {
				out = body[start:i]
			} else {
				if n == 1 {
					out = append([]byte(nil), out...)
				}
				out = append(out, body[start:i]...)
			}
			n++
			start = -1
		}
	}
	return out
}

// jsEscape decodes the escape sequence at the start of s (s[0] == '\\') and
// returns its code point and length. An escape that is not well-formed stands
// for the character after the backslash, as a JavaScript identity escape does.
func jsEscape(s []byte) (rune, int) {
	switch s[1] {
	case 'x':
		if len(s) >= 4 && httpfield.IsHex(s[2]) && httpfield.IsHex(s[3]) {
			return rune(httpfield.Unhex(s[2])<<4 | httpfield.Unhex(s[3])), 4
		}
	case 'u':
		if len(s) >= 3 && s[2] == '{' {
			var r rune
			for k := 3; k < len(s) && k < 3+7; k++ {
				if s[k] == '}' && k > 3 {
					return r, k + 1
				}
				if !httpfield.IsHex(s[k]) {
					break
				}
				r = r<<4 | rune(httpfield.Unhex(s[k]))
				if r > utf8.MaxRune {
					break
				}
			}
		} else if len(s) >= 6 && httpfield.IsHex(s[2]) && httpfield.IsHex(s[3]) && httpfield.IsHex(s[4]) && httpfield.IsHex(s[5]) {
			r := rune(httpfield.Unhex(s[2]))<<12 | rune(httpfield.Unhex(s[3]))<<8
			return r | rune(httpfield.Unhex(s[4]))<<4 | rune(httpfield.Unhex(s[5])), 6
		}
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'v', 'f':
		return ' ', 2
	}
	if s[1] >= utf8.RuneSelf {
		r, w := utf8.DecodeRune(s[1:])
		return r, 1 + w
	}
	return rune(s[1]), 2
}

// plainNorm maps each byte that normalizeScript copies as normByte maps it,
// with nothing else to look at, to that form; 0 marks the bytes it must
// decide on (escapes, quotes, '$', '%', whitespace, non-ASCII, control
// bytes).
var plainNorm = func() (t [256]byte) {
	for c := 0x21; c < 0x7f; c++ {
		switch c {
		case '\\', '\'', '"', '`', '$', '%':
			continue
		}
		t[c] = normByte(byte(c))
	}
	return t
}()

// normByte lowercases ASCII letters and maps every quote to '.
func normByte(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	case c == '"' || c == '`':
		return '\''
	}
	return c
}

func isJSSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isGluePunct: punctuation around which whitespace carries no meaning for
// signature matching.
func isGluePunct(c byte) bool {
	switch c {
	case '(', ')', '[', ']', '{', '}', ',', ';', ':', '=', '+', '\'', '!', '&', '|', '?', '<', '>':
		return true
	}
	return false
}

// Script implements htmlfilter.Policy. It classifies the text of an inline
// script (or a javascript: URL body, or a decoded data: URL): every vendor
// signature found names its vendor; every vendor hostname found has its
// surrounding URL classified by the URL rules, so that path rules apply and
// "notfacebook.net" names nobody. The element is blocked if any vendor found
// is of a denied category; the verdict names the denied category of highest
// index and the first vendor found of it. It does not allocate once the
// Classifier's scratch buffers have grown.
func (p *Classifier) Script(text []byte) htmlfilter.Verdict {
	// A script may build a relative URL and load it after a later base
	// is parsed (an event handler, a timer).
	p.relBefore = p.relBefore || !p.baseSet
	if p.scripts != nil && len(text) >= minCachedScript {
		return p.scriptThroughCache(p.scripts, text)
	}
	p.scr, p.raw = normalizeScript(p.scr[:0], text), text
	return p.scanScript(p.scr, nil)
}

// JudgeScript is Script without its mark on the page's state, which a
// script's verdict does not depend on (its URLs are read as absolute): the
// page cache judges a script's new text with it wherever the page is.
func (p *Classifier) JudgeScript(text []byte) htmlfilter.Verdict {
	rel := p.relBefore
	v := p.Script(text)
	p.relBefore = rel
	return v
}

// verdictOf is the verdict for a script in which the vendors found were
// found: the denied one of the highest category index, as scanScript.
func (p *Classifier) verdictOf(found []int32) htmlfilter.Verdict {
	best, bestVendor, denied, unseen := -1, int32(-1), Set(0), false
	for _, v := range found {
		c := p.r.vendors[v].Category
		if p.deniesVendor(v) {
			denied = denied.With(c)
			unseen = unseen || p.unseen(v)
			if int(c) > best {
				best, bestVendor = int(c), v
			}
		}
	}
	return p.scriptVerdict(best, bestVendor, denied, unseen)
}

// scriptVerdict is the verdict for a script whose denied vendors span the
// categories denied, best the highest of them with its first vendor. A
// script of two denied categories is Mixed: no one label revives it safely.
// unseen: one of them is blocked for a reason the consent tool cannot see.
func (p *Classifier) scriptVerdict(best int, bestVendor int32, denied Set, unseen bool) htmlfilter.Verdict {
	if best < 0 {
		return htmlfilter.Verdict{}
	}
	v := htmlfilter.Verdict{Block: true, Category: p.r.cats[best].ID, Vendor: p.r.vendors[bestVendor].ID, Unseen: unseen}
	if denied&(denied-1) != 0 {
		v.Mixed, v.All = true, p.r.FormatSet(denied)
	}
	return v
}

// scanScript classifies normalised script text. With found, it also
// appends every vendor it finds (for the script cache, which keeps what a
// script names whatever the visitor's consent).
func (p *Classifier) scanScript(s []byte, found *[]int32) htmlfilter.Verdict {
	r := p.r
	m := r.ac
	best, bestVendor, denied, unseen := -1, int32(-1), Set(0), false
	note := func(v int32) {
		if v < 0 {
			return
		}
		if found != nil && !slices.Contains(*found, v) {
			*found = append(*found, v)
		}
		c := r.vendors[v].Category
		if p.deniesVendor(v) {
			denied = denied.With(c)
			unseen = unseen || p.unseen(v)
			if int(c) > best {
				best, bestVendor = int(c), v
			}
		}
	}
	lastA, lastB, lastStart := -1, -1, -1
	data := isPayload(s) // payload.go: mentions need evidence there
	p.sigs = p.sigs[:0]
	row := uint32(0)
	for i := 0; i < len(s); i++ {
		if row == 0 && !(m.pairStarts(s, i) && m.quadStarts(s, i)) {
			continue
		}
		row = m.step(row, s[i])
		if row&hasOut == 0 {
			continue
		}
		st := m.state(row)
		for _, pat := range m.outs[m.outOff[st]:m.outOff[st+1]] {
			if v := r.acVendor[pat]; v >= 0 {
				if (!data || loadingCallNear(s, i)) && !slices.Contains(p.sigs, v) {
					p.sigs = append(p.sigs, v) // noted below, unless only in comments
				}
				continue
			}
			// A hostname: classify the URL-ish run around it.
			start, end := i+1-int(m.plen[pat]), i+1
			a := start
			for a > 0 && !isRunDelim(s[a-1]) {
				a--
			}
			b := end
			for b < len(s) && !isRunDelim(s[b]) {
				b++
			}
			if a == lastA && b == lastB && start == lastStart {
				continue // the same hostname, through another pattern
			}
			if data && !loadingKeyBefore(s, a) && !loadingCallNear(s, start) {
				continue
			}
			// Another hostname in the same run is read again: where it
			// starts decides which "//" and which scheme go with it
			// (FuzzFilterRules found "t.co", inside
			// 'a0000:/alb.reddit.com', taking the run for itself).
			lastA, lastB, lastStart = a, b, start
			note(p.classifyRun(s[a:b], start-a))
		}
	}
	p.noteSignatures(note)
	p.raw = nil // the caller's bytes: not kept
	return p.scriptVerdict(best, bestVendor, denied, unseen)
}

// noteSignatures notes the vendors whose signatures scanScript found
// (p.sigs), but for those found only inside comments of the script text
// (p.raw): a call in a comment runs nothing (comments.go).
func (p *Classifier) noteSignatures(note func(int32)) {
	if len(p.sigs) == 0 || !mayHoldComments(p.raw) {
		for _, v := range p.sigs {
			note(v)
		}
		return
	}
	p.blank = blankComments(p.blank[:0], p.raw)
	p.scr2 = normalizeScript(p.scr2[:0], p.blank)
	p.signatures(p.scr2, func(v int32) {
		if slices.Contains(p.sigs, v) {
			note(v)
		}
	})
}

// signatures calls fn with the vendor of every signature in normalised
// script text s.
func (p *Classifier) signatures(s []byte, fn func(int32)) {
	m := p.r.ac
	row := uint32(0)
	for i := 0; i < len(s); i++ {
		if row == 0 && !(m.pairStarts(s, i) && m.quadStarts(s, i)) {
			continue
		}
		row = m.step(row, s[i])
		if row&hasOut == 0 {
			continue
		}
		st := m.state(row)
		for _, pat := range m.outs[m.outOff[st]:m.outOff[st+1]] {
			if v := p.r.acVendor[pat]; v >= 0 {
				fn(v)
			}
		}
	}
}

// isHostByte reports whether c may be part of a hostname in normalised
// script text (lowercase; non-ASCII for IDNs).
func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c >= 0x80
}

// isRunDelim delimits a URL inside normalised script text, on either side:
// quotes (all normalised to '), whitespace, brackets of every kind, markup
// brackets, commas, semicolons and backslashes. '=' is no delimiter: it
// occurs inside query strings, and classifyRun reads the URL from the last
// "//" before the hostname anyway (so "src=//host" works and "?ref=host"
// stays a query). NUL is none: the HTML parser gives a script U+FFFD for it,
// which delimits nothing either (FuzzFilterRules found the two readings of
// "a0000\x00q/alb.reddit.com" disagreeing). A closing bracket starts a run
// as an opening one ends it: in "a)alb.reddit.com" the URL parser would take
// "a)alb.reddit.com" for the host, but a script can cut the string there
// (FuzzFilterRules found it).
func isRunDelim(c byte) bool {
	switch c {
	case '\'', ' ', '(', ')', '[', ']', '{', '}', ',', ';', '<', '>', '\\':
		return true
	}
	return c < ' ' && c != 0
}

// classifyRun classifies a URL-ish run found in a script, whose hostname
// match starts at hostAt: the part from the last "//" before the hostname is
// read as an https URL (the scheme cannot change which vendor a host is), and a
// run without "//" is read as "https://" + run. A run that does not parse is
// read from the start of the hostname on (with its subdomains, and as
// "notfacebook.net" when the match ends a longer name): a script may yet make
// a URL of it, and failing closed costs only text that is no URL
// (FuzzFilterRules found "a0000:q/alb.reddit.com" naming nobody).
func (p *Classifier) classifyRun(run []byte, hostAt int) int32 {
	buf := p.runBuf[:0]
	k := -1
	for j := hostAt - 2; j >= 0; j-- {
		if run[j] == '/' && run[j+1] == '/' {
			k = j
			break
		}
	}
	// "scheme:/host": a special URL needs no two slashes (WHATWG special
	// authority slashes state), and a JS string's "\\" is one:
	// 'https:\\host' reads as "https:/host" after normalising. A lone
	// "/host" with no scheme stays a path on the page's host.
	oneSlash := k < 0 && hostAt >= 2 && run[hostAt-1] == '/' && run[hostAt-2] == ':'
	switch {
	case k >= 0:
		buf = append(append(buf, "https:"...), run[k:]...)
	case oneSlash:
		// Built with two slashes, so that the host reads as itself
		// (FuzzFilterRules found 'https:\/alb.reddit.com', one slash
		// after normalising, read as the host "lb.reddit.com").
		buf = append(append(buf, "https://"...), run[hostAt:]...)
	default:
		buf = append(append(buf, "https://"...), run...)
	}
	p.runBuf = buf
	// Followed by an '@' before any path, the hostname parses as the
	// userinfo of a URL to another host ("alb.reddit.com:0@r.src", found by
	// FuzzFilterRules). A script may yet make a host of it: unless that
	// URL names a vendor, the readings below stop at the '@'.
	at := userinfoEnd(run[hostAt:])
	if v, parsed := p.httpsURL(buf); parsed && (v >= 0 || at < 0) {
		return v
	}
	if at >= 0 {
		run = run[:hostAt+at]
	}
	a := hostAt // back to where the hostname starts (a subdomain, "notfacebook")
	for a > 0 && isHostByte(run[a-1]) {
		a--
	}
	if a > 0 { // else that is what failed to parse
		if v, parsed := p.runURL(run[a:]); parsed {
			return v
		}
	}
	if hostAt > 0 && run[hostAt-1] == '.' {
		// Labels that cannot be a hostname's in front of the vendor's
		// ("\xe9.alb.reddit.com"): had they been valid, the host would
		// be a subdomain of the vendor's; read it as the vendor's
		// (FuzzFilterRules found it).
		v, _ := p.runURL(run[hostAt:])
		return v
	}
	// Nor from the hostname on ("alb.reddit.com:q", a port no URL has):
	// the hostname alone, which a script may yet make a URL of
	// (FuzzFilterRules found it).
	e := hostAt
	for e < len(run) && isHostByte(run[e]) {
		e++
	}
	if v, parsed := p.runURL(run[a:e]); parsed {
		return v
	}
	return -1
}

// userinfoEnd is the index of the '@' that rest, from a hostname on,
// reaches before the end of a URL's authority (WHATWG authority state), or
// -1.
func userinfoEnd(rest []byte) int {
	for i, c := range rest {
		switch c {
		case '@':
			return i
		case '/', '?', '#', '\\':
			return -1
		}
	}
	return -1
}

// runURL classifies "https://" + rest, as httpsURL.
func (p *Classifier) runURL(rest []byte) (int32, bool) {
	p.runBuf = append(append(p.runBuf[:0], "https://"...), rest...)
	return p.httpsURL(p.runBuf)
}

// httpsURL classifies an "https://..." URL built by classifyRun: the vendor
// index (or -1), and whether it parsed.
func (p *Classifier) httpsURL(u []byte) (int32, bool) {
	if v, ok := p.fastAbsolute(u, len("https://")); ok {
		return v, true
	}
	return p.slowAbsolute(string(u))
}
