package htmlfilter

import (
	"bytes"

	"github.com/consentedge/consentedge/internal/httpfield"
)

// Trace is what a cache needs of a filter's work beyond its output: which
// stretches of the document went out as they came, and where, and which
// attribute values and text no decision of the filter reads. Such a value
// (a script's nonce, a CSRF token in a meta tag, a cart count) may change
// from one rendering of a page to the next while everything the filter
// decides stays the same: a cache can write the new value where the old
// one went.
type Trace struct {
	Runs   []Run
	Values []Value
}

// Run is a stretch of the document written out unchanged: Document[In:In+N]
// became Output[Out:Out+N]. Runs come in the order of both.
type Run struct {
	In, Out int64
	N       int
}

// Value is a quoted attribute value, Document[In:In+N], between two Quote
// bytes, or text between a tag and a '<' (Quote is '<'), that no decision
// of the filter reads: any other value of the same length without the
// quote byte is filtered the same way and, where the value went out, goes
// out in its place. Or it is the text of an inline script that the
// Policy's Script let through (Quote is ScriptText): another text of the
// same length without a '<' is filtered the same way if Script lets it
// through too.
type Value struct {
	In    int64
	N     int
	Quote byte
}

// ScriptText is the Quote of a Value that is a script's text.
const ScriptText byte = 0

// Trace makes f note its runs and unread values in t from now on, for the
// document it is given from its start. Reset ends it.
func (f *Filter) Trace(t *Trace) { f.trace = t }

// traceRun notes d[from:to] as written out unchanged, at the output's end.
// The callers test f.trace: this is on the path of every run.
func (f *Filter) traceRun(from, to int) {
	if from >= to {
		return
	}
	in, out := f.consumed+int64(from), f.written+int64(len(f.out))
	runs := f.trace.Runs
	if n := len(runs); n > 0 && runs[n-1].In+int64(runs[n-1].N) == in && runs[n-1].Out+int64(runs[n-1].N) == out {
		runs[n-1].N += to - from
		return
	}
	f.trace.Runs = append(runs, Run{In: in, Out: out, N: to - from})
}

// traceValues notes the current start tag's unread values. It is called
// where the tag is decided on the common path: not in text read two ways
// (a guarded element reads its tags whole), nor in a child that checks.
// Only a held tag's attributes are recorded; the rest stream.
func (f *Filter) traceValues() {
	if !f.record || f.check || f.opt.XML || f.guarded() {
		return // a tag not recorded streams: the filter has no values of it
	}
	base := f.d[f.tok:]
	refresh := false
	if f.k == kMeta {
		_, refresh = f.attr("http-equiv")
	}
	for _, a := range f.attrs {
		if a.val <= 0 || a.end != a.valEnd+1 || !unreadValue(base[a.name:a.nameEnd], refresh) {
			continue
		}
		q := base[a.val-1]
		if q != '"' && q != '\'' {
			continue
		}
		f.trace.Values = append(f.trace.Values, Value{In: f.consumed + int64(f.tok) + int64(a.val), N: int(a.valEnd - a.val), Quote: q})
	}
}

// traceTexts notes the text the data state's loop read in d[from:to]:
// text and plain tags, up to a '<' at to or to d's end. It finds the tags
// again as the loop did, rather than slow the loop down.
func (f *Filter) traceTexts(from, to int) {
	if f.skip != kOther || f.guarded() || f.foreignPossible() || f.opt.XML || f.check {
		return
	}
	end := to
	if to < len(f.d) {
		end++ // the '<' that ends the last text
	}
	for p := from; ; {
		i := bytes.IndexByte(f.d[p:end], '<')
		if i < 0 {
			return
		}
		f.traceText(p, p+i)
		if p+i == to {
			return
		}
		if p = plainTag(f.d, p+i, f.opt.MaxBuffer); p == 0 {
			return // not a plain tag after all: the loop stopped there
		}
	}
}

// traceText notes d[from:to], text in the data state up to a '<', as
// unread: the scanner looks for nothing in it but the '<' that ends it.
// Not where a '<' that was text comes right before it: that '<' is text
// for what follows it. Long text is not noted (what a site renders anew
// there is short: a cart count, a time), nor the white space between tags.
func (f *Filter) traceText(from, to int) {
	if to-from > maxTracedText || len(trim(f.d[from:to])) == 0 {
		return
	}
	if from > 0 && f.d[from-1] == '<' || from == 0 && f.consumed > 0 && (len(f.buf) > 0 || f.before == '<') {
		return
	}
	f.trace.Values = append(f.trace.Values, Value{In: f.consumed + int64(from), N: to - from, Quote: '<'})
}

// traceScript notes d[from:to], the text of a script that Script let
// through and that was kept whole, as read by Script alone. Only a text
// without a '<': then none can start an end tag or a comment (HTML
// §13.2.5.4), so another text without one is tokenized the same way. A
// script read as markup too (in SVG), one that is guarded, and XML are
// read by more than Script.
func (f *Filter) traceScript(from, to int) {
	if !(f.rawExec || f.rawData) || f.rawDual || f.check || f.opt.XML || f.guarded() || from == to ||
		bytes.IndexByte(f.d[from:to], '<') >= 0 {
		return
	}
	f.trace.Values = append(f.trace.Values, Value{In: f.consumed + int64(from), N: to - from, Quote: ScriptText})
}

// maxTracedText bounds the text traceText notes, and with it the notes of
// a long page.
const maxTracedText = 64

// unreadValue reports whether the value of an attribute of this name is
// read by no decision of the filter, whatever the element. The list is
// short on purpose: these names carry the values that a site renders anew
// for every response (CSP Level 3 §6.7.3.1 nonce, a CSRF token in a meta
// tag's content or a hidden input's value). Every other name may be read:
// a URL, a handler, a style, a type, a size. A meta tag's content is read
// for a refresh (refresh is true when the tag names an http-equiv).
func unreadValue(name []byte, refresh bool) bool {
	switch len(name) {
	case 5:
		return httpfield.EqualFold(name, "nonce") || httpfield.EqualFold(name, "value")
	case 7:
		return !refresh && httpfield.EqualFold(name, "content")
	case 9:
		return httpfield.EqualFold(name, "integrity")
	}
	return false
}
