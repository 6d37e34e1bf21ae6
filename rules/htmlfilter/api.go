// Package htmlfilter is a streaming HTML filter: an io.Writer that takes an HTML
// document in any chunking and writes it on with every element that would load
// or run a blocked resource removed (Strip) or made inert for a client-side
// consent tool to revive (Defer).
//
// The filter never re-serialises what it keeps: kept bytes leave exactly as they
// came. It does not decide what a tracker is; it asks a Policy, so that the rule
// set can change without touching the scanner and the scanner can be fuzzed with
// a toy policy.
package htmlfilter

// Mode says what happens to a blocked element.
type Mode uint8

const (
	// Strip removes the whole element: start tag, content and end tag.
	Strip Mode = iota
	// Defer keeps the element but inert, in the convention client consent tools
	// use to revive it without a reload (type="text/plain", data-src, ...).
	// Elements that cannot be revived that way are stripped.
	Defer
)

func (m Mode) String() string {
	if m == Defer {
		return "defer"
	}
	return "strip"
}

// Verdict is a Policy's answer for one URL or inline script.
type Verdict struct {
	Block    bool   // remove or defer the element
	Category string // category id of the vendor, written as data-category in Defer mode; "" forces Strip
	Vendor   string // vendor id, for the per-response count of removed elements
	// Mixed: the script holds vendors of more than one denied category,
	// All: their ids joined by ".". Unless the dialect can make the tool
	// wait for every one of them (Dialect.AllOf): Strip.
	Mixed bool
	All   string
	// Unseen: blocked for a reason the site's consent tool cannot see (it
	// already grants the category, or Sec-GPC, DNT or a refusal by name
	// blocks it): the tool would revive a label at once. Strip.
	Unseen bool
}

// Policy decides. Implementations are per response (they know the page URL and
// the visitor's consent) and are called from one goroutine.
type Policy interface {
	// URL classifies the value of a loading attribute (src, href, data, ...),
	// entity-decoded, as the browser would resolve it against the page and base.
	URL(raw []byte) Verdict
	// Script classifies the text of an inline script (or other executable text).
	Script(text []byte) Verdict
	// SetBase tells the policy the href of a <base href>, the first not yet
	// refused. A blocking verdict refuses it: the base element is removed,
	// and the next one is offered in turn.
	SetBase(href []byte) Verdict
}

// Permissive may be implemented by a Policy that can tell up front that it
// blocks nothing (the visitor granted every category). The filter then copies
// the document unchanged: nothing to block means nothing is ambiguous either.
type Permissive interface {
	Permissive() bool
}

// Unclassifier may be implemented by a Policy that also decides the loads
// no rule of its names: a script's or a frame's source, and a pixel's (an
// img of at most one pixel, or hidden). The filter asks it about a source
// the Policy's URL let through, and only for documents for which
// Unclassifies reports true.
type Unclassifier interface {
	Unclassified(raw []byte) Verdict
	Unclassifies() bool
}

// Options configures a Filter. The zero value is Strip with the default cap.
type Options struct {
	Mode Mode
	// MaxBuffer caps the bytes held for one undecided element (an inline
	// script, a noscript, a tag). An element that outgrows it is removed if it
	// could load something, never emitted half-decided. 0 means DefaultMaxBuffer.
	MaxBuffer int
	// Dialect marks deferred elements for the consent tool that revives
	// them; nil is cookieconsent's convention (type="text/plain" and
	// data-category="<category>", URLs in data-src, ...) on every element
	// that can be deferred.
	Dialect *Dialect
	// HeadPrelude is markup written at the start of the document's head:
	// right after the <head> start tag, or, without one, right before the
	// first start tag other than <html> (the parser then opens the head
	// itself). It comes before every script of the page (Google Consent
	// Mode's default must run before any Google tag).
	HeadPrelude []byte
	// BodyPrelude is markup written right after the <body> start tag (a
	// consent banner, first in the focus order), or at the end of a
	// document that has none.
	BodyPrelude []byte
	// XML reads the document with XML's syntax (an XHTML or SVG document
	// served as XML): see xml.go. Nothing is deferred in it, and preludes
	// are the caller's to leave out, since markup inserted there would have
	// to be well-formed XML.
	XML bool
	// OnBlock, if set, is told of every blocked element as it is decided
	// (for reports such as `caddy consent scan`; the proxy leaves it nil).
	OnBlock func(Blocked)
}

// Blocked is one blocked element.
type Blocked struct {
	Offset  int64  // of the element's '<' in the document's bytes
	Tag     string // the element's tag name, lowercase ("" when not a tag)
	Verdict Verdict
}

// Dialect is a consent tool's convention for blocked elements, which the
// tool turns back into live ones when the visitor consents.
type Dialect struct {
	// Attrs returns the attributes that mark a deferred element of verdict
	// v, written raw (each with a leading space) right after the tag name,
	// where they win over any later duplicate. script: the element is a
	// <script>; typed: it has a type attribute of its own (renamed to
	// data-type).
	Attrs func(v Verdict, script, typed bool) string
	// SrcPrefix replaces "data-" in front of renamed URL attributes
	// (Cookiebot reads data-cookieblock-src). "" means "data-".
	SrcPrefix string
	// Revives says which elements the tool turns back into live ones;
	// the others are stripped, since deferred they would never load.
	Revives Revivable
	// AllOf: Attrs labels a Mixed verdict with every category of v.All and
	// the tool runs it only once all are granted.
	AllOf bool
}

// Revivable is a set of element groups a consent tool revives.
type Revivable uint8

// The element groups.
const (
	ReviveScripts Revivable = 1 << iota // <script>
	ReviveFrames                        // <iframe>
	ReviveMedia                         // <img>, <source>, <video>, <audio>, <track>, <embed>
	ReviveLinks                         // <link>
)

// DefaultMaxBuffer is the default cap on bytes held for one undecided element.
const DefaultMaxBuffer = 256 << 10

// Removal counts the elements blocked for one vendor in one response.
type Removal struct {
	Vendor   string
	Category string
	Count    int
}

// Reserved vendor ids the filter itself reports.
const (
	VendorOversize  = "oversize"  // an element that outgrew MaxBuffer while undecided
	VendorAmbiguous = "ambiguous" // markup a browser could read two ways, one of them loading something
)
