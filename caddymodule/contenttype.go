package caddymodule

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/consentedge/consentedge/charset"
	"github.com/consentedge/consentedge/internal/httpfield"
)

// resourceHeaderLen is how much of a body a browser sniffs: the resource
// header of MIME Sniffing §5.2, at most 1445 bytes.
const resourceHeaderLen = 1445

// docKind is how a browser reads a body it navigates to, as far as the
// filter cares: the documents that run script and load resources.
type docKind uint8

const (
	docOther docKind = iota // no document of ours: the body passes as it is
	docHTML                 // read by the HTML parser
	docXML                  // read by the XML parser as XHTML or SVG (or possibly so)
)

// bodyType is what a browser makes of a response: its Content-Type fields,
// X-Content-Type-Options, and the first bytes of its body.
type bodyType struct {
	kind docKind
	// essence is the resolved type's, lowercase ("" when there is none).
	essence string
	// value is the Content-Type the decision rests on: the winning field
	// value, or the sniffed type.
	value string
	// label: value replaces the origin's Content-Type fields. A sniffed
	// document must not be sniffed again from bytes that are no longer
	// the origin's (the filter removed some), and a type the origin left
	// to net/http must be ours, not net/http's sniffer's.
	label bool
}

// resolveBodyType decides what a browser does with a response with header
// h whose body starts with b. more says whether bytes may follow b; ok is
// false when more bytes could change the answer (and may still come).
func resolveBodyType(h http.Header, b []byte, more bool) (t bodyType, ok bool) {
	essence, value := extractMIMEType(h["Content-Type"])
	if len(b) >= resourceHeaderLen {
		b, more = b[:resourceHeaderLen], false
	}
	if sniffed(essence) {
		return sniffBodyType(h, essence, value, b, more)
	}
	t = bodyType{kind: kindOf(essence), essence: essence, value: value}
	if t.kind == docXML && !alwaysScripted(essence) {
		// A generic XML type runs script when its root is XHTML or SVG.
		xhtml, done := xmlScriptable(b, more)
		if !done {
			return bodyType{}, false
		}
		if !xhtml {
			t.kind = docOther
		}
	}
	return t, true
}

// sniffBodyType is resolveBodyType for a body the browser sniffs (MIME
// Sniffing §7 step 2), from the resource header b, with the scriptable
// rows of §7.1 since a navigation sets the sniff-scriptable flag.
func sniffBodyType(h http.Header, essence, value string, b []byte, more bool) (bodyType, bool) {
	if len(b) == 0 && more {
		return bodyType{}, false
	}
	mime, done := sniffScriptable(b, more)
	if !done {
		return bodyType{}, false
	}
	_, typed := h["Content-Type"]
	switch {
	case mime != "" && determineNosniff(h["X-Content-Type-Options"]):
		// nosniff clears the sniff-scriptable flag (§7 step 2); Chromium
		// shows such a body as text/plain. Said outright, so that no
		// browser sniffs it as a document.
		ct := textOrBinary(b)
		return bodyType{essence: ct, value: ct, label: true}, true
	case mime == "text/html":
		return bodyType{kind: docHTML, essence: mime, value: mime, label: true}, true
	case mime == "text/xml":
		xhtml, done := xmlScriptable(b, more)
		if !done {
			return bodyType{}, false
		}
		t := bodyType{essence: mime, value: mime, label: true}
		if xhtml {
			t.kind = docXML
		}
		return t, true
	case !typed && len(b) > 0:
		// net/http would label the body with its own sniffer (the old
		// default); ours has the last word where the two could differ.
		ct := http.DetectContentType(b)
		if essence, _ := extractMIMEType([]string{ct}); kindOf(essence) != docOther {
			ct = textOrBinary(b)
		}
		return bodyType{essence: ct, value: ct, label: true}, true
	}
	return bodyType{essence: essence, value: value}, true
}

// sniffed reports whether a browser sniffs a body of this type: MIME
// Sniffing §7 step 2 (an undefined supplied type, which §5.1 makes of one
// that does not parse; unknown/unknown, application/unknown; "*/*" never
// wins extractMIMEType).
func sniffed(essence string) bool {
	return essence == "" || essence == "unknown/unknown" || essence == "application/unknown"
}

// kindOf classifies a type: HTML, or an XML MIME type (MIME Sniffing §4.6:
// a subtype ending in "+xml", text/xml, application/xml).
func kindOf(essence string) docKind {
	switch {
	case essence == "text/html":
		return docHTML
	case essence == "text/xml", essence == "application/xml", strings.HasSuffix(essence, "+xml"):
		return docXML
	}
	return docOther
}

// alwaysScripted: XML types whose documents are XHTML or SVG by their type,
// whatever the root.
func alwaysScripted(essence string) bool {
	return essence == "application/xhtml+xml" || essence == "image/svg+xml"
}

// isMultipartByteranges reports whether essence is the type of a 206 with
// several ranges (RFC 9110 §14.6).
func isMultipartByteranges(essence string) bool {
	return essence == "multipart/byteranges"
}

// extractMIMEType reads the Content-Type field lines as Fetch §"extract a
// MIME type" does (charset.ExtractMIMEType): the winner's essence and value,
// "" and "" on failure. The charset rule of the same section is left to the
// transcoder (charset.Sniff), which reads the lines the same way.
func extractMIMEType(lines []string) (essence, value string) {
	if len(lines) == 0 {
		return "", ""
	}
	return charset.ExtractMIMEType(joinFieldLines(lines))
}

// determineNosniff implements Fetch §"determine nosniff": the first value
// of X-Content-Type-Options is "nosniff", a byte-case-insensitive match
// (ASCII only: "noſniff" is none, as strings.EqualFold would have it).
func determineNosniff(lines []string) bool {
	if len(lines) == 0 {
		return false
	}
	for v := range charset.HeaderValues(joinFieldLines(lines)) {
		return httpfield.EqualFold(v, "nosniff")
	}
	return false
}

// joinFieldLines combines a field's lines as Fetch does (", "), allocating
// only for more than one.
func joinFieldLines(lines []string) string {
	switch len(lines) {
	case 0:
		return ""
	case 1:
		return lines[0]
	}
	return strings.Join(lines, ", ")
}

// scriptablePatterns are the rows of MIME Sniffing §7.1 "rules for
// identifying an unknown MIME type" that the sniff-scriptable flag adds
// (a navigation sets it), after leading whitespace bytes. All but "<?xml"
// end in a tag-terminating byte, and match letters in either case.
var scriptablePatterns = []struct {
	prefix string
	tt     bool // a tag-terminating byte (space or '>') follows; letters fold
	mime   string
}{
	{"<!DOCTYPE HTML", true, "text/html"}, {"<HTML", true, "text/html"}, {"<HEAD", true, "text/html"},
	{"<SCRIPT", true, "text/html"}, {"<IFRAME", true, "text/html"}, {"<H1", true, "text/html"},
	{"<DIV", true, "text/html"}, {"<FONT", true, "text/html"}, {"<TABLE", true, "text/html"},
	{"<A", true, "text/html"}, {"<STYLE", true, "text/html"}, {"<TITLE", true, "text/html"},
	{"<B", true, "text/html"}, {"<BODY", true, "text/html"}, {"<BR", true, "text/html"},
	{"<P", true, "text/html"}, {"<!--", true, "text/html"}, {"<?xml", false, "text/xml"},
}

// sniffScriptable runs the scriptable rows of MIME Sniffing §7.1 over the
// resource header b: "text/html", "text/xml" or "" (not a document that
// runs script; the other rows only tell such types apart). done is false
// when more bytes, which may still come, could change the answer.
func sniffScriptable(b []byte, more bool) (mime string, done bool) {
	i := 0
	for i < len(b) && isWhitespaceByte(b[i]) {
		i++
	}
	rest := b[i:]
	if len(rest) == 0 {
		return "", !more
	}
	for _, p := range scriptablePatterns {
		n, need := len(p.prefix), len(p.prefix)
		if p.tt {
			need++
		}
		if len(rest) < need {
			if m := min(len(rest), n); more && matches(rest[:m], p.prefix[:m], p.tt) {
				return "", false // may still become this pattern, which comes first
			}
			continue
		}
		if matches(rest[:n], p.prefix, p.tt) && (!p.tt || rest[n] == ' ' || rest[n] == '>') {
			return p.mime, true
		}
	}
	return "", true
}

// matches reports whether b and s are equal; with fold, ASCII letters in
// either case (the 0xDF mask the patterns give letters).
func matches(b []byte, s string, fold bool) bool {
	if len(b) != len(s) {
		return false
	}
	if !fold {
		return string(b) == s
	}
	return httpfield.EqualFold(b, s)
}

// isWhitespaceByte: MIME Sniffing §3 "whitespace byte".
func isWhitespaceByte(c byte) bool {
	return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

// textOrBinary is what the rules for identifying an unknown MIME type
// answer for a document body once the scriptable rows are out of play
// (MIME Sniffing §7.1, last two steps): text/plain unless the resource
// header holds a binary data byte (§3).
func textOrBinary(b []byte) string {
	for _, c := range b[:min(len(b), resourceHeaderLen)] {
		if c <= 0x08 || c == 0x0b || 0x0e <= c && c <= 0x1a || 0x1c <= c && c <= 0x1f {
			return "application/octet-stream"
		}
	}
	return "text/plain"
}

// The namespaces whose elements run script and load resources in an XML
// document (HTML §2.1.3 "Namespaces": the HTML and SVG namespaces).
const (
	xhtmlNamespace = "http://www.w3.org/1999/xhtml"
	svgNamespace   = "http://www.w3.org/2000/svg"
)

// xmlScriptable reports whether an XML document starting with b is read as
// XHTML or SVG: its root start tag names the XHTML or SVG namespace (in
// its own name's or in any other declaration, which its descendants may
// use). It fails closed where the bytes cannot tell: a root not found
// within the resource header, a DOCTYPE with an internal subset (which can
// give the root its namespace as a default attribute), a root start tag
// with a reference (which can spell the namespace). done is false when
// more bytes, which may still come, are needed.
func xmlScriptable(b []byte, more bool) (yes, done bool) {
	undecided := func() (bool, bool) {
		if more {
			return false, false
		}
		// The body ended in its prolog, or the prolog fills the header.
		return len(b) >= resourceHeaderLen, true
	}
	i := 0
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		i = 3
	}
	for {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
			i++
		}
		rest := b[i:]
		var end int
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			end = endAfter(rest, "?>")
		case bytes.HasPrefix(rest, []byte("<!--")):
			end = endAfter(rest, "-->")
		case bytes.HasPrefix(rest, []byte("<!DOCTYPE")):
			var subset bool
			if end, subset = markupEnd(rest, '['); subset {
				return true, true
			}
		case len(rest) > 1 && rest[0] == '<' && isXMLNameStart(rest[1]):
			if end, _ = markupEnd(rest, 0); end < 0 {
				return undecided()
			}
			tag := rest[:end]
			return bytes.Contains(tag, []byte(xhtmlNamespace)) || bytes.Contains(tag, []byte(svgNamespace)) ||
				bytes.IndexByte(tag, '&') >= 0, true
		case len(rest) == 0 || bytes.HasPrefix([]byte("<!DOCTYPE"), rest) || bytes.HasPrefix([]byte("<!--"), rest):
			return undecided()
		default:
			return false, true // not XML: the parser stops before any element
		}
		if end < 0 {
			return undecided()
		}
		i += end
	}
}

// endAfter returns the offset just past the first sep in b, -1 if none.
func endAfter(b []byte, sep string) int {
	if i := bytes.Index(b[1:], []byte(sep)); i >= 0 {
		return 1 + i + len(sep)
	}
	return -1
}

// markupEnd returns the offset just past the '>' that ends the markup
// declaration or tag at the start of b, quoted values skipped; -1 if there
// is none. stop, if not 0, ends the search early when met outside quotes
// (found is then true).
func markupEnd(b []byte, stop byte) (end int, found bool) {
	var quote byte
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case stop != 0 && c == stop:
			return i, true
		case c == '>':
			return i + 1, false
		}
	}
	return -1, false
}

// isXMLNameStart: a byte that can start an XML name (XML 1.0 §2.3
// NameStartChar; any non-ASCII byte may begin one).
func isXMLNameStart(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || c == '_' || c == ':' || c >= 0x80
}

// decodedPrefix returns what the first bytes b of a body in coding decode
// to, at most the resource header: browsers sniff a body as decoded. The
// input is ended after b (a gzip reader holds its last output until it
// knows whether another member follows); a cut or corrupt stream yields
// what decoded before the cut.
func decodedPrefix(coding string, b []byte, maxDecoded int64) []byte {
	var out prefixWriter
	d := getDecoder(&out, coding, maxDecoded)
	if _, err := d.Write(b); err == nil {
		_ = d.Close()
	}
	d.release()
	return out
}

// prefixWriter keeps the first resourceHeaderLen bytes written to it.
type prefixWriter []byte

func (w *prefixWriter) Write(p []byte) (int, error) {
	if n := resourceHeaderLen - len(*w); n > 0 {
		*w = append(*w, p[:min(n, len(p))]...)
	}
	return len(p), nil
}
