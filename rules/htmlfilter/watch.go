package htmlfilter

import (
	"bytes"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// Attributes that load on their own, whatever the element: style (CSS url()
// and image-set()), ping on a and area (HTML §4.6.5: a POST to each URL on
// click), background on body and table parts (obsolete but still fetched),
// event handlers (on*), which are inline scripts, and where SVG is possible
// the presentation attributes that take a url(). They are decided one by
// one, so that a tag is otherwise copied as it is and only the offending
// attribute goes.

// watched reports whether the attribute name (raw bytes) loads on kind k.
// Event handlers (on*) are inline scripts on any element: <img onerror=...>
// and <body onload=...> can load a tracker as a <script> can.
func watched(k kind, name []byte) bool {
	if isHandler(name) {
		return true
	}
	if k != kScript && lazyName(name) {
		// A parked URL goes alone; a script's is its load (verdict).
		return true
	}
	switch len(name) {
	case 5:
		return httpfield.EqualFold(name, "style")
	case 4:
		return k == kA && (httpfield.EqualFold(name, "ping") || httpfield.EqualFold(name, "href"))
	case 10:
		return (k == kTableish || k == kBody) && httpfield.EqualFold(name, "background") ||
			k == kA && httpfield.EqualFold(name, "xlink:href") || (k == kForm || k == kInput) && httpfield.EqualFold(name, "formaction")
	case 6:
		return k == kForm && httpfield.EqualFold(name, "action")
	}
	return false
}

// navigation reports whether a watched attribute is a URL followed on a
// click or a submit (href, xlink:href, action, formaction): only a
// javascript: URL in it runs anything, as an inline script.
func navigation(name []byte) bool {
	switch len(name) {
	case 4:
		return httpfield.EqualFold(name, "href")
	case 6:
		return httpfield.EqualFold(name, "action")
	case 10:
		return httpfield.EqualFold(name, "xlink:href") || httpfield.EqualFold(name, "formaction")
	}
	return false
}

// javascriptURL reports whether u is a javascript: URL, as the URL parser
// reads its scheme: leading C0 controls and spaces are dropped, and tabs
// and newlines anywhere. With refs (a raw value, on the fast path) a '&'
// answers true: a character reference may hide the scheme, and the state
// machine decodes it.
func javascriptURL(u []byte, refs bool) bool {
	const js = "javascript:"
	n := 0
	for _, c := range u {
		switch {
		case n == 0 && c <= ' ', c == '\t' || c == '\n' || c == '\r':
		case refs && c == '&':
			return true
		case n < len(js)-1 && c|0x20 == js[n], n == len(js)-1 && c == ':':
			if n++; n == len(js) {
				return true
			}
		default:
			return false
		}
	}
	return false
}

// watched is watched, with the SVG presentation attributes where foreign
// content is possible: Chromium fetches an external fill, stroke, mask,
// clip-path, marker or cursor url() (measured; filter is taken alike).
func (f *Filter) watched(k kind, name []byte) bool {
	return watched(k, name) || f.foreignPossible() && presentationURL(name)
}

// presentationURL reports whether name is an SVG presentation attribute
// whose value may be a url().
func presentationURL(name []byte) bool {
	switch len(name) {
	case 4:
		return httpfield.EqualFold(name, "fill") || httpfield.EqualFold(name, "mask")
	case 6:
		return httpfield.EqualFold(name, "stroke") || httpfield.EqualFold(name, "filter") || httpfield.EqualFold(name, "cursor")
	case 9:
		return httpfield.EqualFold(name, "clip-path")
	case 10:
		return httpfield.EqualFold(name, "marker-mid") || httpfield.EqualFold(name, "marker-end")
	case 12:
		return httpfield.EqualFold(name, "marker-start")
	}
	return false
}

// longestWatched is the longest watched name but the handlers'.
const longestWatched = len("marker-start")

func isSpaceRune(r rune) bool { return r < 0x80 && isSpace(byte(r)) }

// isHandler reports whether an attribute name is an event handler (on*).
func isHandler(name []byte) bool {
	return len(name) > 2 && name[0]|0x20 == 'o' && name[1]|0x20 == 'n'
}

// watchVerdict decides one watched attribute from its raw value.
func (f *Filter) watchVerdict(name, raw []byte) Verdict {
	val := f.decode(raw)
	if isHandler(name) {
		return f.policy.Script(val)
	}
	if lazyName(name) {
		return f.lazyVerdict(name, val)
	}
	if presentationURL(name) {
		return f.styleVerdict(val) // a CSS value
	}
	if navigation(name) {
		if javascriptURL(val, false) {
			return f.policy.URL(val)
		}
		return Verdict{}
	}
	switch len(name) {
	case 5:
		return f.styleVerdict(val)
	case 4:
		// A ping is a set of URLs separated by ASCII whitespace (HTML
		// §4.6.5, "split on ASCII whitespace").
		for u := range bytes.FieldsFuncSeq(val, isSpaceRune) {
			if v := f.policy.URL(u); v.Block {
				return v
			}
		}
		return Verdict{}
	}
	return f.policy.URL(trim(val))
}

// streamTag emits a streamed tag up to pos, but not from a held attribute
// on, which outgrowing MaxBuffer makes go (consistently with the fast path,
// which never copies a tag longer than the cap).
func (f *Filter) streamTag() {
	if f.watch < 0 {
		// An attribute name cut short, unless streamed already (as too
		// long to be watched).
		name := f.tok + int(f.cur.name)
		if f.tst == tAttrName && f.watchable && name >= f.hold {
			switch part := f.d[name:f.pos]; {
			case isHandler(part):
				f.watch = name // on*: watched, whatever follows
			case len(part) <= longestWatched || mayBeLazy(part):
				// It may yet be a watched name: keep it until it is whole.
				f.advance(name)
				return
			}
		}
		if f.watch < 0 {
			f.advance(f.pos)
			return
		}
	}
	f.advance(f.watch)
	if f.watchDrop || f.pos-f.watch > f.opt.MaxBuffer {
		if !f.watchDrop {
			f.watchDrop = true
			f.count(Verdict{Block: true, Vendor: VendorOversize})
		}
		// The spaces after a name go with it, '=' following or not (see
		// decideWatched): a tag cut here cannot hold them without bound
		// until it learns which.
		f.dropTo(f.pos)
		f.watch = f.pos
	}
}

// decideWatched runs when the held attribute of a streamed tag is complete;
// next is where the scan stands. An attribute without a value spans the
// spaces after its name, up to next: the size that MaxBuffer caps is the
// same in one write as across writes (FuzzFilter found a 1,024-byte handler
// name followed by a space kept in one and removed in the other).
func (f *Filter) decideWatched(next int) {
	start, end := f.watch, f.tok+int(f.cur.end)
	if f.cur.val < 0 {
		end = next
	}
	f.watch = -1
	if f.watchDrop {
		f.watchDrop = false
		f.dropTo(end)
		return
	}
	v := Verdict{}
	if end-start > f.opt.MaxBuffer {
		v = Verdict{Block: true, Vendor: VendorOversize}
	} else if f.cur.val >= 0 {
		v = f.watchVerdict(f.d[start:f.tok+int(f.cur.nameEnd)], f.d[f.tok+int(f.cur.val):f.tok+int(f.cur.valEnd)])
	}
	f.advance(start)
	if v.Block {
		f.count(v)
		f.dropTo(end)
	}
}

// dropWatched removes, from a held start tag, every watched attribute that
// loads something blocked (each is judged on its own: a browser takes the
// first of duplicates, and removing it would promote the next), and trims
// its side loads (trimLoad).
func (f *Filter) dropWatched(k kind) {
	base := f.d[f.tok:]
	var side sideSeen
	for _, a := range f.attrs {
		name := base[a.name:a.nameEnd]
		if i := urlAttr(k, name); i >= 0 && sideLoads&(1<<i) != 0 {
			f.trimLoad(&side, i, a)
			continue
		}
		if !f.watched(k, name) {
			continue
		}
		var v Verdict
		if a.val >= 0 {
			v = f.watchVerdict(name, base[a.val:a.valEnd])
		}
		if v.Block && lazyName(name) && f.labelled(k, v) {
			continue // parked already, under v's label
		}
		if v.Block {
			f.count(v)
			f.dropAttr(a)
		}
	}
}
