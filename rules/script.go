package rules

import (
	"unicode/utf8"

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
		switch {
		case c == '\\' && i+1 < n:
			r, w := jsEscape(src[i:])
			i += w
			if r < utf8.RuneSelf {
				dst = append(dst, normByte(byte(r)))
			} else {
				dst = utf8.AppendRune(dst, r)
			}
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

// jsEscape decodes the escape sequence at the start of s (s[0] == '\\') and
// returns its code point and length. An escape that is not well-formed stands
// for the character after the backslash, as a JavaScript identity escape does.
func jsEscape(s []byte) (rune, int) {
	switch s[1] {
	case 'x':
		if len(s) >= 4 && isHex(s[2]) && isHex(s[3]) {
			return rune(unhex(s[2])<<4 | unhex(s[3])), 4
		}
	case 'u':
		if len(s) >= 3 && s[2] == '{' {
			var r rune
			for k := 3; k < len(s) && k < 3+7; k++ {
				if s[k] == '}' && k > 3 {
					return r, k + 1
				}
				if !isHex(s[k]) {
					break
				}
				r = r<<4 | rune(unhex(s[k]))
				if r > utf8.MaxRune {
					break
				}
			}
		} else if len(s) >= 6 && isHex(s[2]) && isHex(s[3]) && isHex(s[4]) && isHex(s[5]) {
			return rune(unhex(s[2]))<<12 | rune(unhex(s[3]))<<8 | rune(unhex(s[4]))<<4 | rune(unhex(s[5])), 6
		}
	case 'n', 'r', 't', 'v', 'f':
		return ' ', 2
	}
	if s[1] >= utf8.RuneSelf {
		r, w := utf8.DecodeRune(s[1:])
		return r, 1 + w
	}
	return rune(s[1]), 2
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

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
// Page's scratch buffers have grown.
func (p *Page) Script(text []byte) htmlfilter.Verdict {
	p.scr = normalizeScript(p.scr[:0], text)
	return p.scanScript(p.scr)
}

func (p *Page) scanScript(s []byte) htmlfilter.Verdict {
	r := p.r
	m := r.ac
	best, bestVendor := -1, int32(-1)
	note := func(v int32) {
		if v < 0 {
			return
		}
		c := r.vendors[v].Category
		if p.denies(c) && int(c) > best {
			best, bestVendor = int(c), v
		}
	}
	lastA, lastB := -1, -1
	st := int32(0)
	for i := 0; i < len(s); i++ {
		st = m.delta[int(st)*m.nclass+int(m.class[s[i]])]
		for _, pat := range m.outs[m.outOff[st]:m.outOff[st+1]] {
			if v := r.acVendor[pat]; v >= 0 {
				note(v)
				continue
			}
			// A hostname: classify the URL-ish run around it.
			start, end := i+1-int(m.plen[pat]), i+1
			a := start
			for a > 0 && !isRunStart(s[a-1]) {
				a--
			}
			b := end
			for b < len(s) && !isRunEnd(s[b]) {
				b++
			}
			if a == lastA && b == lastB {
				continue // the same run, through a shorter hostname pattern
			}
			lastA, lastB = a, b
			note(p.classifyRun(s[a:b], start-a))
		}
	}
	if best < 0 {
		return htmlfilter.Verdict{}
	}
	return htmlfilter.Verdict{Block: true, Category: r.cats[best].ID, Vendor: r.vendors[bestVendor].ID}
}

// isRunStart and isRunEnd delimit a URL inside normalised script text: quotes
// (all normalised to '), whitespace, call parentheses, markup brackets. '=' is
// no delimiter: it occurs inside query strings, and classifyRun reads the URL
// from the last "//" before the hostname anyway (so "src=//host" works and
// "?ref=host" stays a query).
func isRunStart(c byte) bool {
	return c == '\'' || c == ' ' || c == '(' || c == ',' || c == ';' || c == '<' || c == '>' || c == '[' || c == '{' || c == '\\' || c < ' '
}

func isRunEnd(c byte) bool {
	return c == '\'' || c == ' ' || c == ')' || c == ',' || c == ';' || c == '<' || c == '>' || c == ']' || c == '\\' || c < ' '
}

// classifyRun classifies a URL-ish run found in a script, whose hostname
// match starts at hostAt: the part from the last "//" before the hostname is
// read as an https URL (the scheme cannot change which vendor a host is), and a
// run without "//" is read as "https://" + run. A run that does not parse names
// no vendor.
func (p *Page) classifyRun(run []byte, hostAt int) int32 {
	buf := p.runBuf[:0]
	k := -1
	for j := hostAt - 2; j >= 0; j-- {
		if run[j] == '/' && run[j+1] == '/' {
			k = j
			break
		}
	}
	if k >= 0 {
		buf = append(append(buf, "https:"...), run[k:]...)
	} else {
		buf = append(append(buf, "https://"...), run...)
	}
	p.runBuf = buf
	v, ok := p.fastAbsolute(buf, len("https://"))
	if !ok {
		return p.slowAbsolute(string(buf))
	}
	return v
}
