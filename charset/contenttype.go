package charset

import (
	"iter"
	"strings"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// headerCharset returns the charset parameter of a Content-Type value as a
// browser extracts it: Fetch §"extract a MIME type" over the comma-separated
// values (the last parsable MIME type wins; a charset carries over to a later
// value of the same essence that has none), each parsed by MIME Sniffing §4.4
// "parse a MIME type" (first occurrence of a parameter wins, quoted strings
// unescaped).
func headerCharset(ct string) (string, bool) {
	if isUTF8HTML(ct) {
		return ct[len(utf8HTML)-len("utf-8"):], true
	}
	var charset, essence string
	haveCharset, haveType := false, false
	for v := range HeaderValues(ct) {
		ess, cs, hasCS, ok := parseMIMEType(v)
		if !ok || ess == "*/*" {
			continue
		}
		if !haveType || ess != essence {
			charset, haveCharset = cs, hasCS
			essence = ess
		} else if hasCS {
			charset, haveCharset = cs, true
		}
		haveType = true
	}
	return charset, haveType && haveCharset
}

// ExtractMIMEType implements Fetch §"extract a MIME type" as far as the
// essence: of the values of a Content-Type (its field lines joined with
// ", "), the last parsable one other than "*/*" wins. It returns the
// winner's lowercase essence and its value, "" and "" when none parses.
func ExtractMIMEType(ct string) (essence, value string) {
	if isUTF8HTML(ct) {
		return "text/html", ct
	}
	for v := range HeaderValues(ct) {
		if e, _, _, ok := parseMIMEType(v); ok && e != "*/*" {
			essence, value = e, v
		}
	}
	return essence, value
}

// HeaderValues implements Fetch §"get, decode, and split" over a field's
// lines joined with ", ": split on commas outside quoted strings, each value
// trimmed of tabs and spaces ("" is one empty value). It yields the values
// rather than gathering them, since every response asks.
func HeaderValues(s string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for {
			i := httpfield.IndexUnquoted(s, ',')
			if i < 0 {
				yield(strings.Trim(s, " \t"))
				return
			}
			if !yield(strings.Trim(s[:i], " \t")) {
				return
			}
			if s = s[i+1:]; s == "" {
				return // a comma at the very end starts no value
			}
		}
	}
}

func isHTTPSpace(c byte) bool { return c == '\t' || c == '\n' || c == '\r' || c == ' ' }

func trimHTTPSpace(s string) string {
	for len(s) > 0 && isHTTPSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isHTTPSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// isQuotedStringTokens: TAB, 0x20-0x7E, 0x80-0xFF (MIME Sniffing "HTTP
// quoted-string token code point").
func isQuotedStringTokens(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '\t' && (c < 0x20 || c == 0x7f) {
			return false
		}
	}
	return true
}

// parseMIMEType implements MIME Sniffing §4.4 "parse a MIME type", keeping
// only the essence and the charset parameter.
func parseMIMEType(s string) (essence, charset string, hasCharset, ok bool) {
	s = trimHTTPSpace(s)
	slash := strings.IndexByte(s, '/')
	if slash < 0 {
		return "", "", false, false
	}
	typ := s[:slash]
	rest := s[slash+1:]
	semi := strings.IndexByte(rest, ';')
	if semi < 0 {
		semi = len(rest)
	}
	// MIME Sniffing §4.4: trailing whitespace only; " html" is no token.
	sub := rest[:semi]
	for len(sub) > 0 && isHTTPSpace(sub[len(sub)-1]) {
		sub = sub[:len(sub)-1]
	}
	if !httpfield.IsToken(typ) || !httpfield.IsToken(sub) {
		return "", "", false, false
	}
	// typ, '/' and sub are s's first bytes: no concatenation, and no
	// copy unless there are capitals.
	essence = strings.ToLower(s[:slash+1+len(sub)])
	p := rest[semi:]
	for len(p) > 0 {
		p = p[1:] // the ';'
		for len(p) > 0 && isHTTPSpace(p[0]) {
			p = p[1:]
		}
		i := strings.IndexAny(p, ";=")
		if i < 0 {
			break // a name without '=' at the end: no value
		}
		name := strings.ToLower(p[:i])
		if p[i] == ';' {
			p = p[i:]
			continue
		}
		p = p[i+1:]
		if len(p) == 0 {
			break
		}
		var value string
		if p[0] == '"' {
			value, p = collectQuoted(p)
			if j := strings.IndexByte(p, ';'); j >= 0 {
				p = p[j:]
			} else {
				p = ""
			}
		} else {
			j := strings.IndexByte(p, ';')
			if j < 0 {
				j = len(p)
			}
			value = trimHTTPSpace(p[:j])
			p = p[j:]
			if value == "" {
				continue
			}
		}
		if name == "charset" && !hasCharset && httpfield.IsToken(name) && isQuotedStringTokens(value) {
			charset, hasCharset = value, true
		}
	}
	return essence, charset, hasCharset, true
}

// collectQuoted implements Fetch "collect an HTTP quoted string" with
// extract-value true; p starts with '"'.
func collectQuoted(p string) (value, rest string) {
	var b strings.Builder
	i := 1
	for i < len(p) {
		c := p[i]
		switch c {
		case '\\':
			if i+1 >= len(p) {
				b.WriteByte('\\')
				return b.String(), ""
			}
			b.WriteByte(p[i+1])
			i += 2
		case '"':
			return b.String(), p[i+1:]
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), ""
}

// RelabelContentType returns ct with its charset parameter set to utf-8: every
// charset parameter is removed (whatever its case or quoting), the media
// type and the other parameters are kept byte for byte, and "; charset=utf-8"
// is appended. An empty media type becomes "text/html" because the handler
// only transcodes documents it filters as HTML.
func RelabelContentType(ct string) string {
	if isUTF8HTML(ct) {
		return utf8HTML
	}
	parts := httpfield.SplitQuoted(ct, ';')
	media := trimHTTPSpace(parts[0])
	if media == "" {
		media = "text/html"
	}
	var b strings.Builder
	b.WriteString(media)
	for _, p := range parts[1:] {
		p = trimHTTPSpace(p)
		if p == "" {
			continue
		}
		name := p
		if i := strings.IndexByte(p, '='); i >= 0 {
			name = trimHTTPSpace(p[:i])
		}
		if httpfield.EqualFold(name, "charset") {
			continue
		}
		b.WriteString("; ")
		b.WriteString(p)
	}
	b.WriteString("; charset=utf-8")
	return b.String()
}

// utf8HTML is the Content-Type nearly every page comes with, and the label
// RelabelContentType gives it: recognised without parsing, which costs four
// allocations a response.
const utf8HTML = "text/html; charset=utf-8"

// isUTF8HTML reports whether ct is utf8HTML, the charset in any case.
func isUTF8HTML(ct string) bool {
	n := len(utf8HTML) - len("utf-8")
	return len(ct) == len(utf8HTML) && ct[:n] == utf8HTML[:n] && httpfield.EqualFold(ct[n:], "utf-8")
}
