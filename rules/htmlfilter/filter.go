package htmlfilter

import (
	"io"
	"sync"
)

// state is where the scanner is between two bytes of the document. Every
// state survives the end of a Write: a token may straddle chunks at any byte.
type state uint8

const (
	sData    state = iota // text: skip to the next '<' at memchr speed
	sLT                   // after '<'
	sTag                  // inside a start or end tag
	sDecl                 // after "<!"
	sComment              // inside "<!--"
	sBogus                // bogus comment: ends at the first '>'
	sCDATA                // "<![CDATA[" where foreign content is possible
	sRaw                  // the body of a raw text element
	sRawEnd               // the end tag of a raw text element
)

// tagState is the attribute state machine of HTML §13.2.5.32–13.2.5.40.
type tagState uint8

const (
	tName tagState = iota
	tBeforeAttr
	tAttrName
	tAfterAttrName
	tBeforeValue
	tDQ
	tSQ
	tUnquoted
	tAfterQuoted
	tSelfClose
)

// attr is one attribute of the tag being scanned, offsets relative to the
// tag's '<' so that they survive compaction of the buffer. val < 0: no value.
type attr struct {
	name, nameEnd int32
	val, valEnd   int32
	end           int32 // after the value and its closing quote
}

// Filter is the streaming filter. Not safe for concurrent use.
type Filter struct {
	w       io.Writer
	pass    bool // the policy blocks nothing: copy
	policy  Policy
	unclass Unclassifier // the policy, when it decides unnamed loads; else nil
	opt     Options
	removed []Removal
	journal *[]int32 // Journal's
	trace   *Trace   // Trace's
	written int64    // bytes written to w
	before  byte     // the byte before this Write's input (traceText)
	lastIn  byte     // the last byte of the input so far, while tracing
	err     error
	prelude []byte // HeadPrelude, until written
	inHead  bool   // the current start tag is <head>: the prelude follows it
	body    []byte // BodyPrelude, until written
	isBody  bool   // the current tag is <body>
	ipName  uint8  // the current tag's integrationName, if it is one

	buf  []byte  // bytes carried from one Write to the next
	d    []byte  // the bytes being scanned: buf, or the caller's slice
	pos  int     // scan position in d
	keep int     // d[keep:hold] is kept output not yet copied or written
	hold int     // d[:hold] is decided; d[hold:] waits for a decision
	out  []byte  // output assembled when kept runs are not contiguous
	outp *[]byte // out's array, from outPool, while out holds bytes
	last byte    // last byte of the output so far

	st       state
	tok      int   // offset of the '<' of the current token
	consumed int64 // document bytes before d[0]

	// The tag being scanned.
	tst       tagState
	endTag    bool
	k         kind
	nameEnd   int // relative to tok
	stream    bool
	record    bool
	selfClose bool
	attrs     []attr
	cur       attr
	declFrom  int               // comment, CDATA, XML declaration: where to resume the search for their end
	declQ     byte              // an XML declaration's open quote at declFrom, or 0
	bangDecl  bool              // the bogus token is a "<!" declaration (not "<?" or "</")
	xmlLocal  [maxName + 1]byte // XML: the local name of the tag being read (noteLocal)
	xmlLocalN int
	dropTok   bool // the current token is removed as it is scanned
	watchable bool // a start tag whose loading attributes are decided one by one
	watch     int  // start of a held attribute of a streamed tag, or -1
	watchDrop bool // that attribute outgrew MaxBuffer: it goes

	// The raw text element being scanned.
	raw       kind
	rawHold   bool // the whole element is held until its end tag
	rawDrop   bool // the element is removed
	rawExec   bool // its text runs: ask Policy.Script
	rawDual   bool // its text may be read as markup too: check it as markup
	rawData   bool // importmap or speculationrules: its text lists URLs
	rawParked bool // a script parked for some runtime to revive: a non-JS type or a data-* URL
	lazyHit   bool // the last verdict blocked for a data-* URL (lazyName)
	rawWin    bool // a long script streamed window by window (stream.go)
	winCut    bool // a window of it was denied: the rest of its text goes
	winSent   bool // a window of it has left
	winAt     int  // offset in d of its next window
	rawEsc    bool // its text entered the script escape states ("<!--")
	rawEscAt  int  // offset in d of the "<!--" that did
	rawCSS    bool // <style>: its text is CSS whose loads are decided
	rawV      Verdict
	rawTag    int // end of the start tag, relative to tok
	rawEnd    int // offset of the '<' of the end tag
	ss        scriptState

	// Removal of a container element: everything up to its matching end tag.
	skip      kind
	skipDepth int

	// Context.
	foreign     int    // open svg and math elements
	foreignMath uint64 // bit i: the (i+1)th of them, from the outermost, is math
	sticky      bool   // foreign content can no longer be ruled out
	ipDepth     int    // open HTML integration points inside foreign content
	ipNames     uint64 // 4 bits each: their integrationName, from the outermost
	guards      [numKinds]uint16
	nguards     int  // sum of guards
	baseSeen    bool // the first <base href> has been seen
	inSelect    bool // a <select> is open: see startRaw

	// Check mode: a child filter reads held text as markup and only reports.
	check    bool
	depth    int
	blocked  bool
	why      Verdict // the first blocking verdict in check mode
	child    *Filter
	scratch  []byte
	scratch2 []byte // a decoded data: document
}

// New returns a Filter writing to w.
func New(w io.Writer, p Policy, o Options) *Filter {
	f := &Filter{}
	f.Reset(w, p, o)
	return f
}

// Reset prepares f for a new document, keeping its buffers.
func (f *Filter) Reset(w io.Writer, p Policy, o Options) {
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = DefaultMaxBuffer
	}
	perm, _ := p.(Permissive)
	uc, _ := p.(Unclassifier)
	if uc != nil && !uc.Unclassifies() {
		uc = nil
	}
	f.out = f.out[:0]
	f.releaseOut()
	*f = Filter{
		// A prelude must be written even where nothing is blocked.
		pass: perm != nil && perm.Permissive() && len(o.HeadPrelude) == 0 && len(o.BodyPrelude) == 0,
		w:    w, policy: p, unclass: uc, opt: o, prelude: o.HeadPrelude, body: o.BodyPrelude,
		removed: f.removed[:0], buf: f.buf[:0],
		attrs: f.attrs[:0], child: f.child, scratch: f.scratch[:0], scratch2: f.scratch2[:0],
	}
}

// Removed reports the blocked elements per vendor, in first-seen order.
func (f *Filter) Removed() []Removal { return f.removed }

// Copies reports whether f copies the document unchanged (its policy is
// Permissive and there is no prelude to write).
func (f *Filter) Copies() bool { return f.pass }

// Write filters b. Everything decided is written on before Write returns;
// only an undecided element (at most MaxBuffer bytes) stays behind.
func (f *Filter) Write(b []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.pass {
		return f.w.Write(b)
	}
	n := len(b)
	if f.trace != nil && n > 0 {
		f.before, f.lastIn = f.lastIn, b[n-1]
	}
	// An undecided tail from the last Write (a tag or an element cut at
	// the boundary) gets the new bytes a piece at a time until it is
	// decided; then the scan goes on in b itself, where the piece came
	// from: buf holds the tail and a piece, never a copy of every write.
	// Pieces start small, so that what they decide leaves in a small write
	// (which net/http buffers, costing no system call of its own), and
	// double, and are at least as long as the tail, which keeps a long held
	// element linear.
	for piece := tailPiece; len(f.buf) > 0; piece *= 2 {
		if len(b) == 0 {
			f.flushOut() // what the pieces decided
			return n, f.err
		}
		tail := len(f.buf)
		k := min(len(b), max(piece, tail))
		f.buf = append(f.buf, b[:k]...)
		f.d = f.buf
		f.run(false)
		f.spill()
		if f.hold >= tail {
			// buf[tail:] is b[:k]: go on in b, as if it had been
			// scanned there.
			f.shift(tail)
			f.buf = f.buf[:0]
			break
		}
		b = b[k:]
		f.compact()
	}
	f.d = b
	f.run(false)
	f.flushOut()
	f.compact()
	return n, f.err
}

// tailPiece is how many bytes of a Write an undecided tail is given first;
// most tails (a tag cut in two) are decided by it.
const tailPiece = 512

// maxOut bounds out: kept runs cut apart by removed elements, and inserted
// bytes, are gathered there to be written together, up to maxOut; a run
// that does not fit is written in place. Output costs the filter no copy
// of the document, only of what lies between removals, and a write per
// Write where nothing is removed.
const maxOut = 8 << 10

// outPool holds the arrays out gathers into. A filter takes one when it
// gathers and gives it back as soon as out is written, before any write
// in place and at the end of every Write: a response whose client reads
// slowly spends its time blocked in those writes, and would otherwise
// keep maxOut bytes idle for as long (8 KiB per in-flight response, seen
// in the heap profile of the bench's slow clients). Pointers, so that
// Put does not allocate.
var outPool = sync.Pool{New: func() any {
	b := make([]byte, 0, maxOut)
	return &b
}}

// gathering returns out, with an array from outPool if it has none.
func (f *Filter) gathering() []byte {
	if f.outp == nil {
		f.outp = outPool.Get().(*[]byte)
		f.out = (*f.outp)[:0]
	}
	return f.out
}

// releaseOut gives out's array back to outPool once out is empty.
func (f *Filter) releaseOut() {
	if f.outp == nil || len(f.out) > 0 {
		return
	}
	if cap(f.out) <= 2*maxOut {
		// What grew past that (a long attribute renamed) is not kept.
		*f.outp = f.out[:0]
		outPool.Put(f.outp)
	}
	f.outp, f.out = nil, nil
}

// Close ends the document: what is still held is decided and written.
func (f *Filter) Close() error {
	if f.err != nil {
		return f.err
	}
	f.d = f.buf
	f.run(true)
	f.finish()
	if f.body != nil {
		// No <body> start tag: the parser made one; the end is in it.
		f.insert(f.body)
		f.body = nil
	}
	f.flushOut()
	f.buf = f.buf[:0]
	f.d = nil
	return f.err
}

// advance marks d[hold:p] decided: kept, or dropped while skipping.
func (f *Filter) advance(p int) {
	if f.skip != kOther {
		f.dropTo(p)
	} else if p > f.hold {
		f.hold = p
	}
}

// dropTo removes d[hold:p] from the output.
func (f *Filter) dropTo(p int) {
	if p <= f.hold {
		return
	}
	f.spill()
	f.keep, f.hold = p, p
	// A '<' that was text because a tag followed it would start a tag with
	// whatever follows the removed bytes ("<<script>..</script>img src=x>").
	// An empty comment keeps the two apart; nothing else changes.
	if f.last == '<' && !f.check {
		f.out = append(f.gathering(), "<!---->"...)
		f.last = '>'
	}
}

// spill moves the pending kept run to the output.
func (f *Filter) spill() {
	if f.hold > f.keep {
		if !f.check {
			if f.trace != nil {
				f.traceRun(f.keep, f.hold)
			}
			f.emit(f.d[f.keep:f.hold])
			f.last = f.d[f.hold-1]
		}
		f.keep = f.hold
	}
}

// insert writes s into the output at hold.
func (f *Filter) insert(s []byte) {
	f.spill()
	if !f.check && len(s) > 0 {
		f.emit(s)
		f.last = s[len(s)-1]
	}
}

// emit adds run to the output: gathered in out when it fits, else written
// after what out holds (maxOut). run is written or copied before emit
// returns.
func (f *Filter) emit(run []byte) {
	if len(f.out)+len(run) <= maxOut {
		f.out = append(f.gathering(), run...)
		return
	}
	f.write(f.out)
	f.out = f.out[:0]
	if len(run) > maxOut/2 {
		f.releaseOut()
		f.write(run)
		return
	}
	f.out = append(f.out, run...)
}

func (f *Filter) write(p []byte) {
	if f.err == nil && len(p) > 0 {
		_, f.err = f.w.Write(p)
		f.written += int64(len(p))
	}
}

// flushOut writes the decided output to w.
func (f *Filter) flushOut() {
	if f.check {
		f.keep = f.hold
		return
	}
	run := f.d[f.keep:f.hold]
	if f.trace != nil {
		f.traceRun(f.keep, f.hold)
	}
	f.keep = f.hold
	if len(run) > 0 {
		f.last = run[len(run)-1]
	}
	if len(f.out) == 0 {
		f.releaseOut()
		f.write(run) // in place: the common case, nothing removed
		return
	}
	f.emit(run)
	f.write(f.out)
	f.out = f.out[:0]
	f.releaseOut()
}

// compact keeps the undecided tail d[hold:] for the next Write.
func (f *Filter) compact() {
	h := f.hold
	tail := f.d[h:]
	if len(f.buf) > 0 && len(f.d) > 0 && &f.buf[0] == &f.d[0] {
		if h > 0 {
			copy(f.buf, tail)
		}
		f.buf = f.buf[:len(tail)]
	} else {
		f.buf = append(f.buf[:0], tail...)
	}
	f.d = nil
	f.shift(h)
}

// shift moves the scan's offsets back by h: d[h:] is to be addressed from 0.
func (f *Filter) shift(h int) {
	f.consumed += int64(h)
	f.pos -= h
	f.tok -= h
	f.rawEnd -= h
	f.declFrom -= h
	if f.watch >= 0 {
		f.watch -= h
	}
	f.keep -= h
	f.hold -= h
	f.winAt -= h
	f.rawEscAt -= h
}
