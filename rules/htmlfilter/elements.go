package htmlfilter

import (
	"bytes"
	"encoding/json"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// onStartTag decides a start tag once its '>' has been read.
func (f *Filter) onStartTag() {
	f.st = sData
	k := f.k
	if f.prelude != nil {
		f.placePrelude()
	}
	if f.dropTok {
		// Removed for size: its content goes too.
		f.dropTok = false
		f.dropTo(f.pos)
		f.removeContent(k)
		return
	}
	if f.skip != kOther {
		if k == f.skip && !f.closedXML() {
			f.skipDepth++
		}
		f.dropTo(f.pos)
		if f.rawStart(k) {
			f.startRaw(k, true)
		}
		return
	}
	if f.guarded() && f.violates(f.tok+1, f.pos) {
		f.count(Verdict{Block: true, Vendor: VendorAmbiguous})
		f.dropTo(f.pos)
		f.removeContent(k)
		return
	}
	if f.trace != nil {
		f.traceValues()
	}
	f.trackContext(k)
	if f.rawStart(k) {
		f.startRaw(k, false)
		return
	}
	if k == kNoscript && !f.opt.XML {
		// With scripting on its content is raw text, with scripting off it is
		// markup. Read it as markup and let no token through that holds
		// "</noscript": the other reading would end the element there.
		f.guard(kNoscript)
	}
	if k == kBase && !f.baseSeen {
		if href, ok := f.attr("href"); ok {
			if f.check {
				f.baseSeen = true
				f.blocked = true // a base in text read two ways: give up
			} else if v := f.policy.SetBase(f.decode(href)); v.Block {
				f.blockStart(k, v) // refused: the next base is offered in turn
				return
			} else {
				f.baseSeen = true
			}
		}
	}
	if v := f.verdict(k); v.Block {
		f.blockStart(k, v)
		return
	}
	if f.record {
		f.dropWatched(k)
	}
	f.advance(f.pos)
	if f.inHead {
		f.inHead = false
		f.insert(f.prelude)
		f.prelude = nil
	}
	if f.body != nil && f.isBody && !f.check && f.foreign == 0 {
		f.insert(f.body)
		f.body = nil
	}
}

// placePrelude writes the prelude in front of the current start tag, or
// marks it to follow a <head> start tag. The tag is held (not streamed)
// while a prelude waits, so nothing of it is out yet.
func (f *Filter) placePrelude() {
	name := f.d[f.tok+1 : f.tok+f.nameEnd]
	switch {
	case httpfield.EqualFold(name, "html"):
	case httpfield.EqualFold(name, "head"):
		f.inHead = true
	default:
		f.advance(f.tok)
		f.insert(f.prelude)
		f.prelude = nil
		f.inHead = false
	}
}

// trackContext follows foreign content conservatively: it may believe the
// browser is in SVG or MathML when it is not (over-blocking), never the
// reverse. An HTML element left open inside an integration point can make a
// browser ignore </svg>; from then on foreign content is never ruled out.
func (f *Filter) trackContext(k kind) {
	if k == kSelect {
		f.inSelect = true // "<select/>" opens one too: select is not void
	}
	switch k {
	case kSvg, kMath:
		if f.selfClose {
			break
		}
		if f.foreign < 64 {
			bit := uint64(1) << f.foreign
			f.foreignMath &^= bit
			if k == kMath {
				f.foreignMath |= bit
			}
		} else {
			f.sticky = true // deeper than we follow
		}
		f.foreign++
	case kIntegration, kTitle: // SVG's title is one too
		if f.ipDepth > 0 {
			// Inside an integration point it may be an HTML element, which
			// left open (an HTML element ignores "/>") makes a browser
			// ignore </svg> as any other does.
			f.sticky = true
		}
		if f.foreign > 0 && !f.selfClose {
			if f.ipDepth < 16 {
				f.ipNames = f.ipNames&^(0xf<<(4*f.ipDepth)) | uint64(f.ipName)<<(4*f.ipDepth)
			} else {
				f.sticky = true // deeper than we follow
			}
			f.ipDepth++
		}
	default:
		if f.ipDepth > 0 && !k.void() {
			f.sticky = true
		}
	}
}

// onEndTag handles an end tag once its '>' has been read.
func (f *Filter) onEndTag() {
	f.st = sData
	k := f.k
	if k == kSelect {
		f.inSelect = false
	}
	if f.dropTok {
		// Outgrew MaxBuffer while held (inside text read two ways): gone.
		f.dropTok = false
		f.dropTo(f.pos)
		return
	}
	if f.skip != kOther {
		switch {
		case k == f.skip:
			f.skipDepth--
			if f.skipDepth == 0 {
				f.dropTo(f.pos)
				f.skip = kOther
				return
			}
		case k == kBody:
			// A removed element never swallows the end of the document.
			f.dropTo(f.tok)
			f.skip = kOther
			f.advance(f.pos)
			return
		}
		f.dropTo(f.pos)
		return
	}
	if f.guarded() {
		from := f.tok + 2
		if f.guards[k] > 0 {
			f.guards[k]--
			f.nguards--
			from = f.tok + f.nameEnd
		}
		if f.violates(from, f.pos) {
			f.count(Verdict{Block: true, Vendor: VendorAmbiguous})
			f.dropTo(f.pos)
			return
		}
	}
	switch k {
	case kSvg, kMath:
		// Only the innermost root's own end tag surely closes it: a
		// browser ignores </math> inside <svg> (HTML §13.2.6.5, "any other
		// end tag", up to an HTML element), so counting it would believe
		// HTML where SVG goes on, and read an SVG <style> as raw text
		// (FuzzFilterRules found an img let through that way).
		if f.foreign > 0 && !f.sticky && f.innermostForeign() == k {
			f.foreign--
			if f.foreign == 0 {
				f.ipDepth = 0
			}
		}
	case kIntegration, kTitle:
		// Likewise only the innermost one's own end tag: a browser
		// ignores </desc> in <foreignObject> (both are special).
		if f.ipDepth > 0 && f.innermostIntegration() == f.ipName {
			f.ipDepth--
		}
	}
	f.advance(f.pos)
}

// innermostForeign is the kind of the innermost open svg or math element
// (foreign > 0, not sticky: at most 64 are open).
func (f *Filter) innermostForeign() kind {
	if f.foreignMath>>(f.foreign-1)&1 != 0 {
		return kMath
	}
	return kSvg
}

// innermostIntegration is the integrationName of the innermost open
// integration point (ipDepth > 0), or 0 when deeper than ipNames follows.
func (f *Filter) innermostIntegration() uint8 {
	if f.ipDepth > 16 {
		return 0
	}
	return uint8(f.ipNames >> (4 * (f.ipDepth - 1)) & 0xf)
}

func (f *Filter) guard(k kind) {
	if f.nguards < 1<<15 {
		f.guards[k]++
		f.nguards++
	}
}

// removeContent removes what follows a removed start tag of kind k: a raw
// text body, or the content of a container up to its matching end tag.
func (f *Filter) removeContent(k kind) {
	switch {
	case f.opt.XML:
		f.removeContentXML(k)
	case k.rawText():
		f.startRaw(k, true)
	case k == kVideo || k == kAudio || k == kObject:
		f.skip, f.skipDepth = k, 1
	}
}

// blockStart removes or defers a blocked start tag.
func (f *Filter) blockStart(k kind, v Verdict) {
	f.count(v)
	if f.canDefer(k, v) {
		f.deferTag(k, v, f.pos)
		return
	}
	f.dropTo(f.pos)
	f.removeContent(k)
}

// canDefer reports whether a blocked element of kind k is kept inert instead
// of removed. Inside text read two ways (noscript, foreign content) there is
// no client tool to revive anything and no room for doubt: strip. Client
// tools revive HTML elements only, so in possible SVG or MathML: strip, but
// for the elements that are HTML even there.
func (f *Filter) canDefer(k kind, v Verdict) bool {
	mixed := v.Mixed && (f.opt.Dialect == nil || !f.opt.Dialect.AllOf)
	if f.opt.Mode != Defer || v.Category == "" || mixed || v.Unseen || f.guarded() || f.check || f.opt.XML {
		return false
	}
	if k == kScript && f.rawParked {
		// Another runtime may revive it whatever type Defer writes (a
		// lazy loader reads its data-src, a page-speed tool its
		// data-type): it goes, unless labelled already (startRaw).
		return false
	}
	// Only what the consent tool revives is deferred: an element it leaves
	// inert would stay out of the page even after consent, which is no
	// better than removing it and looks like a broken page.
	revives := ReviveScripts | ReviveFrames | ReviveMedia | ReviveLinks
	if f.opt.Dialect != nil {
		revives = f.opt.Dialect.Revives
	}
	if f.foreignPossible() {
		// img and embed break out of foreign content (HTML §13.2.6.5): they
		// are HTML elements wherever they stand. "image" is one only in HTML.
		return revives&ReviveMedia != 0 && (k == kEmbed || k == kImg && f.nameEnd == 4)
	}
	switch k {
	case kScript:
		return revives&ReviveScripts != 0
	case kIframe:
		return revives&ReviveFrames != 0
	case kImg, kSource, kVideo, kAudio, kEmbed, kTrack:
		return revives&ReviveMedia != 0
	case kLink:
		return revives&ReviveLinks != 0
	}
	return false
}

// startRaw starts the body of a raw text element whose start tag ends at pos.
func (f *Filter) startRaw(k kind, drop bool) {
	f.st = sRaw
	f.raw = k
	f.rawTag = f.pos - f.tok
	f.rawDrop, f.rawHold, f.rawExec, f.rawDual, f.rawData, f.rawCSS = drop, false, false, false, false, false
	f.rawParked, f.rawWin, f.rawEsc = false, false, false
	f.rawV = Verdict{}
	f.ss = ssData
	if drop {
		return
	}
	// XML has one reading. Inside <select>, Chromium 135 and later parse
	// style, title, xmp, iframe, noembed and noframes as raw text, as
	// elsewhere; WebKit, Firefox and older Chromium ignore those tags there
	// and read their content as markup (HTML's former "in select"
	// insertion mode): "<select><style></select><img src>" loads the img.
	dual := (f.foreignPossible() || f.inSelect && k != kScript) && !f.opt.XML
	switch k {
	case kScript:
		f.lazyHit = false
		f.rawV = f.verdict(kScript)
		exec, data, parked := f.scriptType()
		_, src := f.attr("src")
		f.rawExec = (exec || parked) && !src // a script with src ignores its text
		f.rawData = data
		f.rawDual = dual
		f.rawParked = parked || f.lazyHit
		if f.rawV.Block && f.rawParked && f.labelled(k, f.rawV) {
			f.rawV = Verdict{} // parked already, under its label: its text decides
		}
	case kIframe:
		f.rawV = f.verdict(kIframe)
	case kStyle:
		f.rawCSS = true
		f.rawDual = dual
	}
	if k != kScript && k != kStyle && dual {
		// In SVG or MathML this is an ordinary element whose content is
		// markup: read it as markup, guarded against the raw text reading.
		f.st = sData
		f.raw = kOther
		if f.rawV.Block {
			f.count(f.rawV)
			f.dropTo(f.pos)
			f.skip, f.skipDepth = k, 1
			return
		}
		f.guard(k)
		f.dropWatched(k) // its own loading attributes still go (a parked data-src)
		f.advance(f.pos)
		return
	}
	if f.rawV.Block {
		f.count(f.rawV)
		if f.canDefer(k, f.rawV) {
			f.deferTag(k, f.rawV, f.pos)
			return
		}
		f.rawDrop = true
		f.dropTo(f.pos)
		return
	}
	f.rawHold = f.rawExec || f.rawData || f.rawDual || f.rawCSS || f.guarded()
	if !f.rawHold {
		f.dropWatched(k)
		f.advance(f.pos)
	}
}

// finishRaw decides a raw text element once its end tag has been read (or
// the document ended inside it).
func (f *Filter) finishRaw() {
	f.st = sData
	k := f.raw
	f.raw = kOther
	if f.rawDrop {
		f.dropTo(f.pos)
		return
	}
	if !f.rawHold {
		f.advance(f.pos)
		return
	}
	if f.rawWin {
		f.finishWindows()
		return
	}
	body := f.d[f.tok+f.rawTag : f.rawEnd]
	var v Verdict
	if f.rawExec || f.rawData {
		v = f.policy.Script(body)
	}
	if v.Block && f.rawParked && (json.Valid(body) || f.labelled(k, v)) {
		// JSON runs nothing, whoever revives it; a labelled element waits
		// for its consent.
		v = Verdict{}
	}
	if !v.Block && f.rawCSS && f.rawDual {
		// In SVG the text is entity-decoded before it is CSS.
		v = f.styleVerdict(f.decode(body))
	}
	if !v.Block && f.rawDual && !f.harmless(body, k) {
		v = Verdict{Block: true, Vendor: VendorAmbiguous}
	}
	if !v.Block && f.guarded() && f.violates(f.tok+1, f.pos) {
		v = Verdict{Block: true, Vendor: VendorAmbiguous}
	}
	if !v.Block {
		f.dropWatched(k)
		if f.rawCSS {
			f.keepStyle(body, f.tok+f.rawTag)
			return
		}
		if f.trace != nil {
			f.traceScript(f.tok+f.rawTag, f.rawEnd)
		}
		f.advance(f.pos)
		return
	}
	f.count(v)
	if v.Vendor != VendorAmbiguous && !f.rawData && f.canDefer(k, v) {
		f.deferTag(k, v, f.tok+f.rawTag)
		f.advance(f.pos)
		return
	}
	f.dropTo(f.pos)
}

// finish decides what is still open when the document ends, as a browser
// would read an EOF there (HTML §13.2.5: EOF in a tag drops the tag, EOF in a
// comment or raw text ends it).
func (f *Filter) finish() {
	n := len(f.d)
	switch f.st {
	case sLT, sDecl:
		f.pos = n
		f.st = sData
		f.advance(n)
	case sTag:
		f.pos = n
		f.st = sData
		if f.stream && !f.dropTok {
			// The browser drops a tag cut off by the end, so its bytes
			// are harmless; part of a streamed one is out already, and
			// letting the rest follow keeps the output a fixed point.
			f.watch = -1
			f.advance(n)
		} else {
			f.dropTo(n)
		}
	case sComment, sBogus:
		f.pos = n
		f.endOpaque()
	case sCDATA:
		f.pos = n
		f.endCDATA()
	case sRaw, sRawEnd:
		// The body runs to the end; a cut-off end tag is dropped.
		if f.st == sRaw {
			f.rawEnd = n
		}
		f.pos = f.rawEnd
		f.finishRaw()
		f.dropTo(n)
	}
	if f.skip != kOther {
		f.dropTo(n)
	}
}

// harmless reads b, the text of an element that a browser might parse as
// markup instead, the way that browser would, and reports whether that
// reading loads nothing blocked and ends where the raw text reading ends.
func (f *Filter) harmless(b []byte, g kind) bool {
	if f.depth >= 3 {
		return false
	}
	c := f.checker()
	c.sticky = f.foreignPossible()
	c.guards, c.nguards = f.guards, f.nguards
	if g != kOther {
		c.guard(g)
	}
	want := c.nguards
	c.Write(b)
	clean := c.st == sData && c.skip == kOther && c.nguards == want
	return clean && !c.blocked
}

// checker returns the child filter, reset to read a new document in check
// mode: it writes nothing and only reports whether anything would be blocked.
func (f *Filter) checker() *Filter {
	c := f.child
	if c == nil {
		c = new(Filter)
		f.child = c
	}
	c.Reset(nil, f.policy, Options{MaxBuffer: f.opt.MaxBuffer})
	c.pass = false // it must read, even where the parent would copy
	c.check, c.depth = true, f.depth+1
	return c
}

// scriptType reads type and language as HTML §4.12.1.1 does: exec is true for
// a classic or module script, data for an import map or speculation rules,
// whose JSON lists URLs to load. parked is true for every other type but
// data and templates: the browser runs nothing of it, but a page-speed
// tool's or a consent tool's runtime may (rocketlazyloadscript,
// text/partytown, text/plain, <hex>-text/javascript).
func (f *Filter) scriptType() (exec, data, parked bool) {
	t, ok := f.attr("type")
	if !ok {
		if lang, ok := f.attr("language"); ok && len(lang) > 0 {
			// A language attribute reads as the type "text/" + language.
			lang = trim(lang)
			for _, m := range jsTypes {
				if m[:5] == "text/" && httpfield.EqualFold(lang, m[5:]) {
					return true, false, false
				}
			}
			return false, false, true
		}
		return true, false, false
	}
	t = trim(t)
	switch {
	case len(t) == 0, jsMIME(t), httpfield.EqualFold(t, "module"):
		return true, false, false
	case httpfield.EqualFold(t, "importmap"), httpfield.EqualFold(t, "speculationrules"):
		return false, true, false
	}
	return false, false, !inertType(t)
}

// inertType reports whether a script type names data or a template, which
// client code reads but does not run: JSON (application/json, text/json,
// any +json such as application/ld+json) and the template types of the
// common template engines (text/template, text/x-template, text/html,
// text/x-handlebars-template, text/x-jquery-tmpl, ...).
func inertType(t []byte) bool {
	if i := bytes.IndexByte(t, ';'); i >= 0 {
		t = trim(t[:i])
	}
	return httpfield.EqualFold(t, "application/json") || httpfield.EqualFold(t, "text/json") ||
		httpfield.HasSuffixFold(t, "+json") || httpfield.EqualFold(t, "text/html") ||
		httpfield.ContainsFold(t, "template") || httpfield.ContainsFold(t, "tmpl") ||
		httpfield.ContainsFold(t, "handlebars") || httpfield.ContainsFold(t, "mustache")
}

// jsMIME reports whether t is a JavaScript MIME type essence match (MIME
// Sniffing §4.6), compared ASCII case-insensitively. Parameters make it
// non-matching, as browsers do.
func jsMIME(t []byte) bool {
	for _, m := range jsTypes {
		if httpfield.EqualFold(t, m) {
			return true
		}
	}
	return false
}

var jsTypes = [...]string{
	"application/ecmascript", "application/javascript", "application/x-ecmascript",
	"application/x-javascript", "text/ecmascript", "text/javascript",
	"text/javascript1.0", "text/javascript1.1", "text/javascript1.2",
	"text/javascript1.3", "text/javascript1.4", "text/javascript1.5",
	"text/jscript", "text/livescript", "text/x-ecmascript", "text/x-javascript",
}

// trim removes ASCII whitespace around b.
func trim(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
