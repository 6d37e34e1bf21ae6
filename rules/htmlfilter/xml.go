package htmlfilter

import (
	"bytes"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// An XML document (XHTML or SVG served as XML, Options.XML) differs from
// HTML where a filter reading it as HTML would remove more than the element
// it blocks, or miss an element the browser builds:
//
//   - a start tag ending in "/>" closes its element (XML 1.0 §3.1
//     EmptyElemTag): read as HTML, <script src=".."/> would take the
//     document up to the next </script> with it;
//   - no element's content is raw text: it is markup, read as such, and
//     script and style are gathered whole for their text to be classified,
//     up to their end tag outside CDATA sections and comments (§2.5, §2.7);
//   - "<![CDATA[" opens a CDATA section anywhere: text, read one way;
//   - element names may carry a prefix (§4 of Namespaces in XML 1.0): the
//     local name says what the element is;
//   - a blocked element goes with its content and end tag, unless it closes
//     itself: a start tag removed alone would leave its end tag unmatched,
//     which is fatal in XML.
//
// What stays read as HTML: processing instructions end at the first '>'
// (not "?>"), and names compare without case. Two declarations load or
// make loads (xmlDecl): an xml-stylesheet processing instruction fetches
// its href, and an entity declared in the internal DTD subset is expanded
// wherever the document references it, in attribute values, text and
// script text alike.

// closedXML reports whether the start tag just read closes its element.
func (f *Filter) closedXML() bool { return f.opt.XML && f.selfClose }

// rawStart reports whether the start tag just read, of kind k, starts a
// body read up to its end tag.
func (f *Filter) rawStart(k kind) bool {
	if !f.opt.XML {
		return k.rawText()
	}
	return (k == kScript || k == kStyle) && !f.selfClose
}

// cdataPossible reports whether "<![CDATA[" here opens a CDATA section.
func (f *Filter) cdataPossible() bool { return f.opt.XML || f.foreignPossible() }

// removeContentXML removes what follows a removed start tag of kind k in an
// XML document: its content and end tag, unless it closed itself.
func (f *Filter) removeContentXML(k kind) {
	switch {
	case f.selfClose:
	case k == kScript || k == kStyle:
		f.startRaw(k, true)
	default:
		f.skip, f.skipDepth = k, 1
	}
}

// noteLocal follows the local name of an XML tag name as its bytes b are
// read: what follows its last ':' (Namespaces in XML 1.0 §4), up to
// maxName+1 bytes (longer is no name the filter knows). A name ending in
// ':' has none.
func (f *Filter) noteLocal(b []byte) {
	if k := bytes.LastIndexByte(b, ':'); k >= 0 {
		f.xmlLocalN = 0
		b = b[k+1:]
	}
	for _, c := range b {
		if f.xmlLocalN < len(f.xmlLocal) {
			f.xmlLocal[f.xmlLocalN] = c
		}
		f.xmlLocalN++
	}
}

// localName is name without its prefix; a name that ends in ':' (not
// well-formed) stays whole.
func localName(name []byte) []byte {
	if i := bytes.LastIndexByte(name, ':'); i >= 0 && i+1 < len(name) {
		return name[i+1:]
	}
	return name
}

var (
	cdataOpen   = []byte("<![CDATA[")
	commentOpen = []byte("<!--")
)

// scanRawXML is scanRaw for an XML document: it finds the end tag of the
// script or style from pos, of the element's local name with any prefix,
// outside CDATA sections and comments. A section not yet closed is looked
// at again from its start when more data comes.
func (f *Filter) scanRawXML(d []byte, eof bool) bool {
	name := f.raw.name()
	for {
		j := bytes.IndexByte(d[f.pos:], '<')
		if j < 0 {
			f.pos = len(d)
			return false
		}
		i := f.pos + j
		rest := d[i:]
		var close string
		switch {
		case bytes.HasPrefix(rest, cdataOpen):
			close = "]]>"
		case bytes.HasPrefix(rest, commentOpen):
			close = "-->"
		case !eof && (bytes.HasPrefix(cdataOpen, rest) || bytes.HasPrefix(commentOpen, rest)):
			f.pos = i
			return false
		case len(rest) > 1 && rest[1] == '/':
			n, ok, more := xmlEndTag(rest, name)
			if more && !eof {
				f.pos = i
				return false
			}
			if ok {
				f.endRaw(i, n)
				return true
			}
			f.pos = i + 2
			continue
		default:
			f.pos = i + 1
			continue
		}
		k := bytes.Index(rest[len(commentOpen):], []byte(close))
		if k < 0 {
			if f.pos = i; eof {
				f.pos = len(d)
			}
			return false
		}
		f.pos = i + len(commentOpen) + k + len(close)
	}
}

// xmlEndTag reads the end tag at the start of b ("</"): n is the length of
// its name, ok whether its local name is name; more is true when b ends
// before the name does.
func xmlEndTag(b []byte, name string) (n int, ok, more bool) {
	e := 2
	for e < len(b) && !isEndDelim(b[e]) {
		e++
	}
	if e == len(b) {
		return 0, false, true
	}
	return e - 2, httpfield.EqualFold(localName(b[2:e]), name), false
}

// xmlDecl decides a processing instruction or declaration of an XML
// document, tok (from '<' to its '>'): at is where the part to remove
// starts. An xml-stylesheet instruction goes whole when its href is
// denied. An <!ENTITY declaration goes (from its "<!ENTITY" on, which
// may follow "<!DOCTYPE x [") when its replacement text is a denied URL,
// script or markup, or when its quoted value does not end within the
// token (a '>' inside it): a reference to it is then a well-formedness
// error, at which the browser stops, with nothing of it loaded.
func (f *Filter) xmlDecl(tok []byte) (at int, v Verdict) {
	if httpfield.HasPrefixFold(tok, "<?xml-stylesheet") {
		if href, ok := pseudoAttr(tok, "href"); ok {
			return 0, f.policy.URL(f.decode(href))
		}
		return 0, Verdict{}
	}
	at = bytes.Index(tok, []byte("<!ENTITY"))
	if at < 0 {
		return 0, Verdict{}
	}
	rest := tok[at:]
	q := bytes.IndexAny(rest, `"'`)
	if q < 0 {
		return 0, Verdict{}
	}
	end := bytes.IndexByte(rest[q+1:], rest[q])
	if end < 0 {
		return at, Verdict{Block: true, Vendor: VendorAmbiguous}
	}
	val := f.decode(rest[q+1 : q+1+end])
	if v = f.policy.URL(trim(val)); !v.Block {
		if v = f.policy.Script(val); !v.Block && bytes.IndexByte(val, '<') >= 0 && !f.harmless(val, kOther) {
			v = Verdict{Block: true, Vendor: VendorAmbiguous}
		}
	}
	return at, v
}

// pseudoAttr returns the value of the pseudo-attribute name of a
// processing instruction (name="value" or name='value').
func pseudoAttr(pi []byte, name string) ([]byte, bool) {
	for i := 0; ; {
		j := bytes.Index(pi[i:], []byte(name))
		if j < 0 {
			return nil, false
		}
		i += j + len(name)
		k := i
		for k < len(pi) && isSpace(pi[k]) {
			k++
		}
		if k >= len(pi) || pi[k] != '=' {
			continue
		}
		for k++; k < len(pi) && isSpace(pi[k]); k++ {
		}
		if k >= len(pi) || pi[k] != '"' && pi[k] != '\'' {
			continue
		}
		if e := bytes.IndexByte(pi[k+1:], pi[k]); e >= 0 {
			return pi[k+1 : k+1+e], true
		}
		return nil, false
	}
}

// scanXMLDecl finds the '>' that ends the declaration being read ("<!DOCTYPE",
// "<!ENTITY", ...) of an XML document, outside quoted strings (an entity's
// value may hold markup), from declFrom on with the quote state declQ, and
// returns its offset from pos, or -1 with declFrom at the end of d: a
// declaration split across writes is read once, and the same way.
func (f *Filter) scanXMLDecl(d []byte) int {
	for j := f.declFrom; j < len(d); j++ {
		switch c := d[j]; {
		case f.declQ != 0:
			if c == f.declQ {
				f.declQ = 0
			}
		case c == '"' || c == '\'':
			f.declQ = c
		case c == '>':
			f.declFrom = j
			return j - f.pos
		}
	}
	f.declFrom = len(d)
	return -1
}
