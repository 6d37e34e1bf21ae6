package htmlfilter

import (
	"bytes"
	"strings"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// run scans d from pos until the data runs out or, at eof, the document ends.
func (f *Filter) run(eof bool) {
	d := f.d
	for f.err == nil {
		switch f.st {
		case sData:
			// The hot loop: text and ordinary tags, copied as they are.
			pos := f.pos
			// Until the prelude is written every start tag is looked at.
			// In possible SVG, presentation attributes (fill, mask) may
			// load: the state machine looks at them (Filter.watched).
			// XML names its elements by their local name, which the fast
			// path does not look for.
			plain := f.skip == kOther && !f.guarded() && !f.foreignPossible() && f.prelude == nil && f.body == nil && !f.opt.XML
			for {
				if pos >= len(d) || d[pos] != '<' {
					i := bytes.IndexByte(d[pos:], '<')
					if i < 0 {
						pos = len(d)
						break
					}
					pos += i
				}
				if !plain {
					break
				}
				end := plainTag(d, pos, f.opt.MaxBuffer)
				if end == 0 {
					break
				}
				pos = end
			}
			if f.trace != nil {
				f.traceTexts(f.pos, pos)
			}
			f.pos = pos
			f.advance(pos)
			if pos == len(d) {
				return
			}
			f.tok = f.pos
			f.pos++
			f.st = sLT

		case sLT:
			if f.pos >= len(d) {
				return // at eof a lone '<' is text: finish keeps it
			}
			switch c := d[f.pos]; {
			case isAlpha(c):
				f.beginTag(false)
			case c == '/':
				if f.pos+1 >= len(d) {
					return
				}
				switch c2 := d[f.pos+1]; {
				case isAlpha(c2):
					f.pos++
					f.beginTag(true)
				case c2 == '>':
					// "</>" is dropped by the tokenizer (missing-end-tag-name).
					f.pos += 2
					f.st = sData
				default:
					f.pos++
					f.st, f.bangDecl = sBogus, false
				}
			case c == '!':
				f.pos++
				f.st = sDecl
			case c == '?':
				f.st, f.bangDecl = sBogus, false
			default:
				f.st = sData // the '<' was text
			}

		case sTag, sRawEnd:
			if !f.scanTag(d) {
				if f.dropTok {
					f.dropTo(f.pos)
				} else if f.stream {
					f.streamTag()
				} else {
					f.capHeld()
				}
				return
			}
			if !f.stream {
				f.capHeld()
			}
			if f.st == sRawEnd {
				f.finishRaw()
			} else if f.endTag {
				f.onEndTag()
			} else {
				f.onStartTag()
			}

		case sDecl:
			rest := d[f.pos:]
			switch {
			case bytes.HasPrefix(rest, []byte("--")):
				f.pos += 2
				f.declFrom = f.pos
				f.st = sComment
			case f.cdataPossible() && bytes.HasPrefix(rest, []byte("[CDATA[")):
				f.pos += 7
				f.declFrom = f.pos
				f.st = sCDATA
			case !eof && (bytes.HasPrefix([]byte("--"), rest) ||
				f.cdataPossible() && bytes.HasPrefix([]byte("[CDATA["), rest)):
				return // too few bytes to tell
			default:
				// A declaration: in XML its end is the first '>' outside
				// quoted strings (scanXMLDecl), read from declFrom on.
				f.st = sBogus
				f.declFrom, f.declQ, f.bangDecl = f.pos, 0, true
			}

		case sComment:
			end := commentEnd(d, f.tok+4, f.declFrom)
			if end < 0 {
				f.declFrom = max(f.declFrom, len(d)-3)
				f.pos = f.declFrom
				if f.dropTok {
					f.dropTo(f.declFrom)
				} else if !f.guarded() {
					f.advance(f.declFrom)
				} else {
					f.capHeld()
				}
				return
			}
			f.pos = end
			if f.guarded() {
				f.capHeld()
			}
			f.endOpaque()

		case sBogus:
			var i int
			if f.opt.XML && f.bangDecl {
				i = f.scanXMLDecl(d)
			} else {
				i = bytes.IndexByte(d[f.pos:], '>')
			}
			if i < 0 {
				f.pos = len(d)
				if f.dropTok {
					f.dropTo(f.pos)
				} else if !f.guarded() && !f.opt.XML {
					f.advance(f.pos)
				} else {
					f.capHeld() // XML: a declaration is decided whole (xmlDecl)
				}
				return
			}
			f.pos += i + 1
			if f.guarded() || f.opt.XML {
				f.capHeld()
			}
			f.endOpaque()

		case sCDATA:
			i := bytes.Index(d[f.declFrom:], []byte("]]>"))
			if i < 0 {
				f.declFrom = max(f.declFrom, len(d)-2)
				f.pos = len(d)
				if f.dropTok {
					f.dropTo(f.declFrom) // keep what the search resumes from
				} else if f.opt.XML {
					f.advance(f.declFrom) // text, as it comes
				} else {
					f.capHeld()
				}
				return
			}
			f.pos = f.declFrom + i + 3
			if !f.opt.XML {
				f.capHeld() // XML: text, which passes as it comes
			}
			f.endCDATA()

		case sRaw:
			if !f.scanRaw(d, eof) {
				if f.rawDrop {
					f.dropTo(f.pos)
				} else if !f.rawHold {
					f.advance(f.pos)
				} else {
					f.capHeld()
				}
				return
			}
		}
	}
}

// commentEnd finds the end of a comment whose text starts at start, searching
// from from. It returns the offset after the closing '>', or -1.
// HTML §13.2.5.43–52: "<!-->" and "<!--->" end at once; otherwise the first
// "-->" or "--!>" ends the comment, also when it follows a nested "<!--".
func commentEnd(d []byte, start, from int) int {
	if from == start {
		if start < len(d) && d[start] == '>' {
			return start + 1
		}
		if start+1 < len(d) && d[start] == '-' && d[start+1] == '>' {
			return start + 2
		}
		if start+1 >= len(d) {
			return -1
		}
	}
	for i := from; ; {
		j := bytes.Index(d[i:], []byte("--"))
		if j < 0 {
			return -1
		}
		i += j
		if i+2 < len(d) && d[i+2] == '>' {
			return i + 3
		}
		if i+3 < len(d) && d[i+2] == '!' && d[i+3] == '>' {
			return i + 4
		}
		if i+3 >= len(d) {
			return -1
		}
		i++
	}
}

// plainTag is the fast path for the tags that make up most of a page: when
// the tag at i is wholly in view and can load nothing nor change a context,
// it returns the offset after its '>': the tag is kept as it is. Else 0, and
// the state machine takes the tag. skipAttrs reads the attributes without
// recording them, only looking at the names that can load (style and on*
// everywhere, ping on a, background on body and tables). Measured, this beats first testing the
// tag for special bytes with IndexByte: a tag is short, a call is not free.
// Callers check that no context (skip, guard, integration point) needs to
// see every tag.
func plainTag(d []byte, i, max int) int {
	j := i + 1
	end := false
	if j < len(d) && d[j] == '/' {
		j++
		end = true
	}
	if j >= len(d) || !isAlpha(d[j]) {
		return 0
	}
	s := j
	for j < len(d) && class[d[j]] == cOther {
		j++ // names are short: a byte loop beats a word-at-a-time scan here
	}
	if j >= len(d) {
		return 0
	}
	// Most names (div, span, li, p) are no kind at all; rule them out
	// without the call.
	k := kOther
	if l := j - s; l == 1 || l <= maxName && candidates[l]&(1<<(d[s]|0x20-'a')) != 0 {
		k = lookupKind(d[s:j])
	}
	switch k {
	case kOther, kA, kTableish, kForm:
	case kBody:
		if end {
			return 0 // may bound a removed element
		}
	default:
		return 0
	}
	if d[j] == '>' {
		return j + 1
	}
	stop, _, loads := skipAttrs(d, j, k, !end)
	if stop == 0 || loads || stop-i > max {
		return 0 // the state machine decides its attributes one by one
	}
	return stop
}

// beginTag starts a tag whose name begins at pos.
func (f *Filter) beginTag(end bool) {
	f.xmlLocalN = 0
	f.st = sTag
	f.tst = tName
	f.endTag = end
	f.selfClose = false
	f.stream = false
	f.record = false
	f.k = kUnknown
	f.watch = -1
	f.watchDrop = false
	f.attrs = f.attrs[:0]
}

// nameDone runs when the tag name is complete: it decides how much of the
// tag must be looked at. Most tags are copied without recording anything.
func (f *Filter) nameDone(nameEnd int) {
	start := f.tok + 1
	if f.endTag {
		start++
	}
	f.nameEnd = nameEnd - f.tok
	var name []byte
	switch {
	case !f.opt.XML:
		name = f.d[start:nameEnd]
	case f.xmlLocalN <= maxName:
		// The local name, kept aside: a long prefix may be out of d (an
		// oversized tag being dropped) by the time the name ends.
		name = f.xmlLocal[:f.xmlLocalN]
	}
	f.k = kOther
	if len(name) > 0 {
		f.k = lookupKind(name)
	}
	// The name may be out of d by the time the tag ends (a streamed tag
	// split across writes): note now whether it is <body>.
	f.isBody = f.k == kBody && httpfield.EqualFold(name, "body")
	f.ipName = 0
	if f.k == kIntegration || f.k == kTitle {
		f.ipName = integrationName(name)
	}
	// Any start tag may carry a style attribute that loads: on this path
	// (tags not wholly in view, or of a kind that loads) record them all.
	// Tags that can load as a whole are held and decided at their '>'; the
	// rest stream, with only a watched attribute (style, ping, background)
	// held back until it is decided.
	isStart := !f.endTag && f.skip == kOther && f.st != sRawEnd
	interesting := isStart && f.k != kOther && f.k != kA && f.k != kTableish && f.k != kBody && f.k != kForm
	// Held until decided, rather than streamed, while the prelude waits to
	// be written in front of a start tag.
	f.stream = !interesting && !f.guarded() && f.st != sRawEnd && (f.prelude == nil || !isStart)
	f.watchable = isStart && f.stream
	// A held start tag records its attributes: to classify them, or (held
	// because guarded) to find a watched one.
	f.record = isStart && !f.stream
	if f.opt.XML && nameEnd-f.tok > f.opt.MaxBuffer && !f.dropTok {
		// A name is read whole in XML (its prefix may be long): one that
		// outgrows the cap goes, however it arrived (capHeld drops it
		// when a write ends inside it). The scan has reached nameEnd.
		f.pos = nameEnd
		f.oversize()
	}
	if f.dropTok {
		// Removed whole: the rest of the tag is skipped, nothing of it
		// streamed or recorded.
		f.stream, f.watchable, f.record = false, false, false
	}
}

// scanTag runs the attribute state machine from pos. It returns true with pos
// after the closing '>', or false when the data ran out.
func (f *Filter) scanTag(d []byte) bool {
	var done bool
	f.pos, f.tst, done = f.tagMachine(d, f.pos, f.tst)
	return done
}

func (f *Filter) tagMachine(d []byte, i int, st tagState) (int, tagState, bool) {
	for i < len(d) {
		c := d[i]
		switch st {
		case tName:
			j := span(d, i, tagNameEnd)
			if f.opt.XML {
				f.noteLocal(d[i:j])
			}
			i = j
			if i == len(d) {
				if f.k == kUnknown && i-f.tok > maxName+2 && !f.opt.XML {
					// Too long for any name we know: stream it. Not in XML,
					// where a prefix may precede a short local name
					// ("a0000000000:script"): the name is read whole.
					f.nameDone(i)
				}
				return i, st, false
			}
			if f.k == kUnknown {
				f.nameDone(i)
			}
			st = tBeforeAttr
			if !f.record && !f.watchable {
				// Nothing to record or watch (end tags): finish the tag
				// with the fast skipper when it is all here; else go on
				// byte by byte.
				if end, self, _ := skipAttrs(d, i, f.k, false); end > 0 {
					i, f.selfClose = end, self
					return i, st, true
				}
			} else if f.record {
				// A held tag wholly in view: its attributes recorded in one
				// pass, as the states below would record them.
				if end, self := f.recordAttrs(d, i); end > 0 {
					i, f.selfClose = end, self
					return i, st, true
				}
			}
		case tBeforeAttr:
			switch {
			case isSpace(c):
				i++
			case c == '/':
				st = tSelfClose
				i++
			case c == '>':
				i++
				return i, st, true
			default:
				// '=' here starts an attribute name (unexpected-equals-sign-before-attribute-name).
				f.cur = attr{name: int32(i - f.tok), val: -1}
				st = tAttrName
				i++
			}
		case tAttrName:
			i = span(d, i, attrNameEnd)
			if i == len(d) {
				return i, st, false
			}
			c = d[i]
			f.cur.nameEnd = int32(i - f.tok)
			// A name streamed already (too long to be watched) is out of d;
			// a handler's may be watched already (streamTag).
			if name := f.tok + int(f.cur.name); f.watch < 0 && f.watchable && name >= f.hold && f.watched(f.k, d[name:i]) {
				// Hold this attribute back until its value is decided.
				f.watch = name
			}
			if c == '=' {
				st = tBeforeValue
				i++
			} else {
				st = tAfterAttrName
			}
		case tAfterAttrName:
			switch {
			case isSpace(c):
				i++
			case c == '=':
				st = tBeforeValue
				i++
			default:
				f.cur.end = f.cur.nameEnd
				f.addAttr(i)
				st = tBeforeAttr // '/', '>' and a new name are handled there
			}
		case tBeforeValue:
			switch {
			case isSpace(c):
				i++
			case c == '"':
				i++
				f.cur.val = int32(i - f.tok)
				st = tDQ
			case c == '\'':
				i++
				f.cur.val = int32(i - f.tok)
				st = tSQ
			case c == '>':
				f.cur.val, f.cur.valEnd, f.cur.end = int32(i-f.tok), int32(i-f.tok), int32(i-f.tok)
				f.addAttr(i)
				i++
				return i, st, true
			default:
				f.cur.val = int32(i - f.tok)
				st = tUnquoted
			}
		case tDQ, tSQ:
			q := byte('"')
			if st == tSQ {
				q = '\''
			}
			j := bytes.IndexByte(d[i:], q)
			if j < 0 {
				i = len(d)
				return i, st, false
			}
			i += j
			f.cur.valEnd = int32(i - f.tok)
			f.cur.end = f.cur.valEnd + 1
			f.addAttr(i + 1)
			i++
			st = tAfterQuoted
		case tUnquoted:
			i = spanUnquoted(d, i)
			if i == len(d) {
				return i, st, false
			}
			f.cur.valEnd = int32(i - f.tok)
			f.cur.end = f.cur.valEnd
			f.addAttr(i)
			st = tBeforeAttr
		case tAfterQuoted:
			switch {
			case isSpace(c):
				i++
				st = tBeforeAttr
			case c == '/':
				i++
				st = tSelfClose
			case c == '>':
				i++
				return i, st, true
			default:
				st = tBeforeAttr // missing-whitespace-between-attributes
			}
		case tSelfClose:
			if c == '>' {
				f.selfClose = true
				i++
				return i, st, true
			}
			st = tBeforeAttr
		}
	}
	return i, st, false
}

// Byte classes of the tag tokenizer: what ends a tag or attribute name.
const (
	cOther = iota
	cSpace
	cSlash
	cGT
	cEq
)

var class = func() (t [256]uint8) {
	for _, c := range []byte(" \t\n\f\r") {
		t[c] = cSpace
	}
	t['/'], t['>'] = cSlash, cGT
	return t
}()

// nameClass is class with '=' added: it ends attribute names, not tag names.
var nameClass = func() (t [256]uint8) {
	t = class
	t['='] = cEq
	return t
}()

// skipAttrs finishes a tag whose attributes need no recording, from the end
// of its name. It is the state machine of HTML §13.2.5.32–40 folded into
// straight loops: quoted values are skipped with IndexByte, and a quote is
// special only where a value starts (in names it is a name character). It
// returns the offset after '>' and whether the tag is self-closing, or 0 when
// the tag does not end within d; it has no side effects, so the caller can
// then resume byte by byte.
func skipAttrs(d []byte, i int, k kind, watch bool) (end int, self, loads bool) {
	n := len(d)
	nav := watch && (k == kA || k == kForm)
	for i < n {
		// Before attribute name; also after a value or a name without one.
		switch class[d[i]] {
		case cSpace:
			i++
			continue
		case cSlash:
			if i+1 < n && d[i+1] == '>' {
				return i + 2, true, loads
			}
			i++
			continue
		case cGT:
			return i + 1, false, loads
		}
		// An attribute name: its first byte may be '=' or a quote.
		ns := i
		i++
		for i < n && nameClass[d[i]] == cOther {
			i++
		}
		name := d[ns:i]
		// Watched names start with o, s, p, b, d or n (on*, style, ping,
		// background, data-src, nitro-lazy-src): most (class, href, id) are
		// ruled out here.
		// The navigation URLs of a and form (href, action) are looked at
		// below, from their value: few start as a javascript: URL can.
		w := watch && i < n && watchFirst[name[0]] && watched(k, name)
		for i < n && class[d[i]] == cSpace {
			i++
		}
		if i >= n {
			return 0, false, false
		}
		if d[i] != '=' {
			continue
		}
		i++
		for i < n && class[d[i]] == cSpace {
			i++
		}
		if i >= n {
			return 0, false, false
		}
		vs := i
		switch c := d[i]; c {
		case '"', '\'':
			j := bytes.IndexByte(d[i+1:], c)
			if j < 0 {
				return 0, false, false
			}
			vs, i = i+1, i+1+j
			loads = loads || w && valueMayLoad(name, d[vs:i]) || nav && vs < i && jsLead[d[vs]] && navMayRun(name, d[vs:i])
			i++
		case '>':
			return i + 1, false, loads
		default:
			i = spanUnquoted(d, i)
			loads = loads || w && valueMayLoad(name, d[vs:i]) || nav && jsLead[d[vs]] && navMayRun(name, d[vs:i])
		}
	}
	return 0, false, false
}

// navMayRun is the fast path's test of a navigation URL (href on a and
// area, action and formaction on form and button) whose value starts as a
// javascript: URL may (jsLead): whether it may be one. Links are most of a
// page's attributes; the first byte of the value rules out nearly all of
// them ('/', '#', 'h') before the call.
func navMayRun(name, v []byte) bool {
	return navigation(name) && javascriptURL(v, true)
}

// jsLead holds the bytes a raw javascript: URL may start with: its 'j',
// a character reference, or what URL parsing strips first.
var jsLead = func() (t [256]bool) {
	for c := range ' ' + 1 {
		t[c] = true
	}
	t['j'], t['J'], t['&'] = true, true, true
	return t
}()

// watchFirst holds the first bytes of the watched attribute names.
var watchFirst = func() (t [256]bool) {
	for _, c := range []byte("oOsSpPbBdDnN") {
		t[c] = true
	}
	return t
}()

// recordAttrs is skipAttrs that records every attribute in f.attrs the
// way tagMachine's states do (HTML §13.2.5.32–40). It returns 0, recording
// nothing, when the tag does not end within d.
func (f *Filter) recordAttrs(d []byte, i int) (end int, self bool) {
	n, base, mark := len(d), f.tok, len(f.attrs)
	for i < n {
		switch class[d[i]] {
		case cSpace:
			i++
			continue
		case cSlash:
			if i+1 < n && d[i+1] == '>' {
				return i + 2, true
			}
			i++
			continue
		case cGT:
			return i + 1, false
		}
		a := attr{name: int32(i - base), val: -1}
		i++
		for i < n && nameClass[d[i]] == cOther {
			i++
		}
		a.nameEnd = int32(i - base)
		for i < n && class[d[i]] == cSpace {
			i++
		}
		if i >= n {
			break
		}
		if d[i] != '=' {
			a.end = a.nameEnd
			f.attrs = append(f.attrs, a)
			continue
		}
		i++
		for i < n && class[d[i]] == cSpace {
			i++
		}
		if i >= n {
			break
		}
		switch c := d[i]; c {
		case '"', '\'':
			j := bytes.IndexByte(d[i+1:], c)
			if j < 0 {
				f.attrs = f.attrs[:mark]
				return 0, false
			}
			a.val = int32(i + 1 - base)
			i += 1 + j
			a.valEnd = int32(i - base)
			a.end = a.valEnd + 1
			i++
		case '>':
			a.val, a.valEnd, a.end = int32(i-base), int32(i-base), int32(i-base)
			f.attrs = append(f.attrs, a)
			return i + 1, false
		default:
			a.val = int32(i - base)
			i = spanUnquoted(d, i)
			a.valEnd = int32(i - base)
			a.end = a.valEnd
			if i >= n {
				f.attrs = f.attrs[:mark]
				return 0, false
			}
		}
		f.attrs = append(f.attrs, a)
	}
	f.attrs = f.attrs[:mark]
	return 0, false
}

// valueMayLoad is the fast path's test of a watched attribute's raw value:
// an event handler or a URL (ping, background) may load when not empty; CSS
// (style, the only five-letter watched name besides handlers) needs a '(' for url() and image-set(), or an '&'
// for an entity-encoded one (a CSS-escaped paren opens no function).
func valueMayLoad(name, v []byte) bool {
	switch {
	case isHandler(name):
		return len(v) > 0 // script text: the script classifier decides
	case len(name) == 5:
		return bytes.IndexByte(v, '(') >= 0 || bytes.IndexByte(v, '&') >= 0
	}
	return len(v) > 0
}

// addAttr ends the attribute in cur; next is where the scan stands.
func (f *Filter) addAttr(next int) {
	if f.record {
		f.attrs = append(f.attrs, f.cur)
	}
	if f.watch >= 0 {
		f.decideWatched(next)
	}
}

// attr returns the raw value of the first attribute named name (ASCII
// case-insensitive; the first of duplicates wins, HTML §13.2.5.33).
func (f *Filter) attr(name string) (val []byte, ok bool) {
	base := f.d[f.tok:]
	for _, a := range f.attrs {
		if httpfield.EqualFold(base[a.name:a.nameEnd], name) {
			if a.val < 0 {
				return nil, true
			}
			return base[a.val:a.valEnd], true
		}
	}
	return nil, false
}

// guarded reports whether some enclosing element's content is read two ways,
// so that every token must be checked before it is let through.
func (f *Filter) guarded() bool { return f.nguards > 0 }

// foreignPossible reports whether the browser could be in SVG or MathML
// content here, where raw text elements and CDATA sections parse as markup.
func (f *Filter) foreignPossible() bool { return f.foreign > 0 || f.sticky }

// endOpaque ends a comment or bogus comment at pos.
func (f *Filter) endOpaque() {
	f.st = sData
	if f.dropTok {
		f.dropTok = false
		f.dropTo(f.pos)
		return
	}
	if f.guarded() && f.violates(f.tok+2, f.pos) {
		f.dropTo(f.pos)
		f.count(Verdict{Block: true, Vendor: VendorAmbiguous})
		return
	}
	if f.opt.XML && f.tok >= 0 && !bytes.HasPrefix(f.d[f.tok:], commentOpen) {
		// A declaration or processing instruction, held whole (a comment
		// streams: its start may be out of d already).
		if at, v := f.xmlDecl(f.d[f.tok:f.pos]); v.Block {
			f.count(v)
			f.advance(f.tok + at)
			f.dropTo(f.pos)
			return
		}
	}
	f.advance(f.pos)
}

// endCDATA ends a CDATA section where foreign content is possible. In SVG it
// is text up to "]]>"; in HTML it is a bogus comment up to the first '>' and
// markup after it. Kept only when the HTML reading of the rest is harmless.
func (f *Filter) endCDATA() {
	f.st = sData
	if f.dropTok {
		f.dropTok = false
		f.dropTo(f.pos)
		return
	}
	if f.opt.XML {
		f.advance(f.pos) // text, read one way only
		return
	}
	body := f.d[f.tok:f.pos]
	ok := !f.guarded() || !f.violates(f.tok+2, f.pos)
	if gt := bytes.IndexByte(body, '>'); ok && gt < len(body)-1 {
		ok = f.harmless(body[gt+1:], kOther)
	}
	if ok {
		f.advance(f.pos)
		return
	}
	f.dropTo(f.pos)
	f.count(Verdict{Block: true, Vendor: VendorAmbiguous})
}

// violates reports whether d[from:to] holds "</name" for an element whose
// content is being read two ways: the other reading would end that element
// here and read what follows as live markup.
func (f *Filter) violates(from, to int) bool {
	b := f.d[from:to]
	for {
		i := bytes.Index(b, []byte("</"))
		if i < 0 {
			return false
		}
		b = b[i+2:]
		for k := kind(1); k < numKinds; k++ {
			if f.guards[k] == 0 {
				continue
			}
			n := k.name()
			// The checked bytes end at a '>', which no name continues
			// through: a match must lie wholly inside them.
			if len(b) >= len(n) && httpfield.EqualFold(b[:len(n)], n) {
				return true
			}
		}
	}
}

// capHeld enforces MaxBuffer on the element held since tok. It runs when a
// chunk ends and again when the element is complete, so that the decision
// does not depend on how the document was chunked: the element is removed
// (a script: streamed, stream.go) exactly when its whole held size exceeds
// the cap.
func (f *Filter) capHeld() {
	if f.rawWin {
		f.streamWindows()
		return
	}
	if f.dropTok || f.pos-f.tok <= f.opt.MaxBuffer {
		return
	}
	if (f.st == sRaw || f.st == sRawEnd) && (f.rawDrop || !f.rawHold) {
		return
	}
	if f.canStream() {
		f.streamWindows()
		return
	}
	f.oversize()
}

// oversize gives up on an element that outgrew MaxBuffer while undecided: it
// is removed whole, and the scanner keeps tokenizing to find its end.
func (f *Filter) oversize() {
	f.count(Verdict{Block: true, Vendor: VendorOversize})
	if f.st == sRaw || f.st == sRawEnd {
		f.rawDrop, f.rawHold = true, false
	} else {
		f.dropTok = true
	}
	to := f.pos
	if (f.st == sComment || f.st == sCDATA) && f.declFrom < to {
		to = f.declFrom // the end search resumes there: keep those bytes
	}
	f.dropTo(to)
}

func (f *Filter) count(v Verdict) {
	if f.check {
		if !f.blocked {
			f.blocked, f.why = true, v
		}
		return
	}
	if f.opt.OnBlock != nil {
		f.opt.OnBlock(Blocked{Offset: f.consumed + int64(f.tok), Tag: f.tagName(), Verdict: v})
	}
	i := f.countRemoved(v.Vendor, v.Category, 1)
	if f.journal != nil {
		*f.journal = append(*f.journal, int32(i))
	}
}

// tagName is the lowercase name of the tag at tok, for reports.
func (f *Filter) tagName() string {
	if f.tok < 0 || f.tok >= len(f.d) || f.d[f.tok] != '<' {
		return ""
	}
	i := f.tok + 1
	if i < len(f.d) && f.d[i] == '/' {
		i++
	}
	j := i
	for j < len(f.d) && j-i < maxName && class[f.d[j]] == cOther {
		j++
	}
	return strings.ToLower(string(f.d[i:j]))
}
