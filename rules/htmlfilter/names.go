package htmlfilter

import "github.com/consentedge/consentedge/internal/httpfield"

// kind is what the scanner knows about a tag name. Only names that can load
// something, change how later bytes are tokenized, or bound a context get a
// kind; every other tag is kOther and is copied without a look at its
// attributes.
type kind uint8

const (
	kOther kind = iota
	// Loading elements.
	kScript
	kImg // img and image (the parser renames image to img)
	kSource
	kVideo
	kAudio
	kTrack
	kEmbed
	kInput
	kObject
	kIframe
	kFrame
	kLink
	kFeImage // SVG feImage: loads its href, cross-origin too; not void
	kAnimate // SVG set and animate: set any attribute, href and fill included
	kBase
	// Raw text and RCDATA elements: their content is not markup in HTML context.
	kStyle
	kTextarea
	kTitle
	kXmp
	kNoembed
	kNoframes
	// Elements whose content a browser reads two ways.
	kNoscript
	// Foreign content and its HTML integration points.
	kSvg
	kMath
	kIntegration // foreignObject, desc, annotation-xml, mi, mo, mn, ms, mtext
	kBody        // body and html: their end tags bound a skipped element; body has background
	// Elements that load through one attribute only (ping, background,
	// http-equiv refresh); most of them are copied by the fast path after a
	// look for that attribute.
	kA        // a, area: ping; href (a javascript: URL runs on a click)
	kForm     // form, button: action, formaction (a javascript: URL runs on submit)
	kTableish // table, thead, tbody, tfoot, tr, td, th: background
	kMeta     // meta: http-equiv=refresh
	kSelect   // select: the raw text elements inside it are read two ways (startRaw)
	numKinds
	kUnknown // the tag name is not read yet
)

// maxName is the length of the longest name lookupKind knows.
const maxName = 14

// lookupKind maps a tag name to its kind, ASCII case-insensitively, without
// allocating. Names are lowercased into a small array first: browsers fold
// only ASCII letters in tag names (HTML §13.2.5.8), never Unicode case.
func lookupKind(name []byte) kind {
	if len(name) == 1 {
		if name[0]|0x20 == 'a' {
			return kA
		}
		return kOther
	}
	if len(name) > maxName || candidates[len(name)]&(1<<(name[0]|0x20-'a')) == 0 {
		return kOther
	}
	var buf [maxName]byte
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(name)]) {
	case "script":
		return kScript
	case "img", "image":
		return kImg
	case "source":
		return kSource
	case "video":
		return kVideo
	case "audio":
		return kAudio
	case "track":
		return kTrack
	case "embed":
		return kEmbed
	case "input":
		return kInput
	case "object":
		return kObject
	case "iframe":
		return kIframe
	case "frame":
		return kFrame
	case "link":
		return kLink
	case "feimage":
		return kFeImage
	case "set", "animate":
		return kAnimate
	case "base":
		return kBase
	case "style":
		return kStyle
	case "textarea":
		return kTextarea
	case "title":
		return kTitle
	case "xmp":
		return kXmp
	case "noembed":
		return kNoembed
	case "noframes":
		return kNoframes
	case "noscript":
		return kNoscript
	case "svg":
		return kSvg
	case "math":
		return kMath
	case "foreignobject", "desc", "annotation-xml", "mi", "mo", "mn", "ms", "mtext":
		return kIntegration
	case "body", "html":
		return kBody
	case "area":
		return kA
	case "form", "button":
		return kForm
	case "table", "thead", "tbody", "tfoot", "tr", "td", "th":
		return kTableish
	case "meta":
		return kMeta
	case "select":
		return kSelect
	}
	return kOther
}

// integrationName numbers the names of the integration points (kIntegration
// and SVG's title) from 1, so that an end tag can be matched with the
// innermost open one.
func integrationName(name []byte) uint8 {
	for i, n := range [...]string{"foreignobject", "desc", "annotation-xml", "mi", "mo", "mn", "ms", "mtext", "title"} {
		if httpfield.EqualFold(name, n) {
			return uint8(i + 1)
		}
	}
	return 0
}

// candidates has, per name length, a bit for each first letter that some
// known name of that length starts with: most tags (a, p, div, span, li...)
// are rejected before any comparison.
var candidates = func() (t [maxName + 1]uint32) {
	for _, n := range []string{"script", "img", "image", "source", "video", "audio", "track",
		"embed", "input", "object", "iframe", "frame", "link", "base", "style", "textarea",
		"title", "xmp", "noembed", "noframes", "noscript", "svg", "math", "foreignobject",
		"desc", "annotation-xml", "mi", "mo", "mn", "ms", "mtext", "body", "html",
		"area", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "meta",
		"feimage", "set", "animate", "form", "button", "select"} {
		t[len(n)] |= 1 << (n[0] - 'a')
	}
	return t
}()

// rawText reports whether a start tag of kind k switches the HTML tokenizer to
// RAWTEXT, RCDATA or script data (HTML §13.2.6.4.4 and §13.2.6.4.7).
func (k kind) rawText() bool {
	switch k {
	case kScript, kStyle, kTextarea, kTitle, kXmp, kIframe, kNoembed, kNoframes:
		return true
	}
	return false
}

// void reports whether an element of kind k has no content and no end tag.
// frame is not void in the spec's list, but a frame start tag is inserted and
// popped at once (HTML §13.2.6.4.19), so it never has content either.
func (k kind) void() bool {
	switch k {
	case kImg, kSource, kTrack, kEmbed, kInput, kLink, kBase, kFrame, kMeta:
		return true
	}
	return false
}

// name returns the lowercase tag name used to find the end of a raw text element.
func (k kind) name() string {
	switch k {
	case kScript:
		return "script"
	case kStyle:
		return "style"
	case kTextarea:
		return "textarea"
	case kTitle:
		return "title"
	case kXmp:
		return "xmp"
	case kIframe:
		return "iframe"
	case kNoembed:
		return "noembed"
	case kNoframes:
		return "noframes"
	case kNoscript:
		return "noscript"
	case kVideo:
		return "video"
	case kAudio:
		return "audio"
	case kObject:
		return "object"
	}
	return ""
}

func isSpace(c byte) bool {
	// ASCII whitespace as the HTML tokenizer knows it: tab, LF, FF, CR, space.
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
