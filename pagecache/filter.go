package pagecache

import (
	"bytes"
	"errors"
	"hash/maphash"
	"io"

	"github.com/consentedge/consentedge/charset"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// ErrPromised is returned by Write or Close when the document turns out to
// differ from the remembered one after the caller promised the remembered
// output's length (PromiseLength). Nothing of that call was done: the
// caller takes its promise back (WithdrawPromise) and calls again, or ends
// the document.
var ErrPromised = errors.New("pagecache: the document differs from the remembered one after its length was promised")

// ErrDiffers is returned when a live filter's output disagrees with the
// remembered output already written: the filter would then not be a
// function of its input, and the document cannot go on consistently.
var ErrDiffers = errors.New("pagecache: filter output differs from the remembered output")

// Filter is an htmlfilter.Filter with the cache in front. For one document
// at a time it replays the remembered output, records the filter's output
// for the cache, or lets the filter work alone (live). It owns both ends of
// the filter it wraps: Reset points the filter's output at its own writer.
// It keeps no buffer of its own but the key's and the UTF-8 check's: a
// recording's copies go into the cache. A Filter must not be copied once Reset.
type Filter struct {
	c *Cache
	f *htmlfilter.Filter
	p Policy
	buffers
	h    uint64
	mode mode
	out  output
	// check: the live filter reads the document through it (see
	// Write); its buffer is kept across documents.
	check charset.UTF8Check
	// misses: the key's documents differed this many times in a row
	// before this one (entry.misses).
	misses uint8
	// lookups counts the documents this Filter was reset for (touchEvery).
	lookups uint8

	// replaying, and live after a difference (e stays set)
	e        *entry
	promised bool  // the caller promised len(e.out) to its client
	read     int   // e.in[:read] has been read and was equal
	written  int   // e.out[:written] has been written
	passed   int   // e.marks[:passed] are at or before read
	base     int32 // the point of e the live filter is at while replaying
	diverged bool  // the document differed from e somewhere
	liveIn   int   // the document's bytes written to r so far
	equalIn  int   // of them, those replayed
	delta    int   // liveIn - read when the document last differed
	noResume int   // no resuming before liveIn reaches this
	tries    int   // places stopped at to look for a point (resumeTries)
	cursor   int32 // the first point of e not yet passed by alignedPoint
	tl       tail  // the document's last bytes

	// splicing (splice.go)
	emitted int  // patches[:emitted] are written or not to be
	splices int  // patches made in this document
	judge   span // a script whose text is spliced in part, judged at its end (n 0: none)

	// recording
	pointless bool // the filter has no points but the start
	in        []byte
	fed       int // in[:fed] was given to the filter
	marks     []mark
	points    []point
	cuts      []cutRef
	states    [][]byte
	journal   []int32
}

type mode uint8

const (
	live mode = iota
	replaying
	recording
	resuming // live after a difference, looking for a point to replay from
)

// output is the filter's writer: it passes output on, keeps a copy while
// recording, and, after a replay went live, checks and drops what the
// replay already wrote.
type output struct {
	next io.Writer
	copy *[]byte // recording: output is appended here
	// sent: (*copy)[:sent] went to next. A recording writes its copy on
	// once per input write (sendCopy): the filter, fed 4 KiB at a time for
	// the marks, would otherwise make as many writes to the client, each
	// its own chunk on a chunked response.
	sent int
	skip []byte // output already written by the replay, still to be met
}

func (o *output) Write(p []byte) (int, error) {
	n := len(p)
	if len(o.skip) > 0 {
		k := min(len(p), len(o.skip))
		if !bytes.Equal(p[:k], o.skip[:k]) {
			return 0, ErrDiffers
		}
		o.skip, p = o.skip[k:], p[k:]
		if len(p) == 0 {
			return n, nil
		}
	}
	if o.copy != nil {
		*o.copy = append(*o.copy, p...)
		return n, nil
	}
	if _, err := o.next.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

// sendCopy writes on the recorded output not yet written.
func (o *output) sendCopy() error {
	if o.copy == nil || o.sent == len(*o.copy) {
		return nil
	}
	_, err := o.next.Write((*o.copy)[o.sent:])
	o.sent = len(*o.copy)
	return err
}

// Reset prepares r for doc, which f filters under policy p and options opt
// into w; c nil filters live. The key is made of opt, p's key and doc's
// name (key.go). A filter with an OnBlock hook, or one that copies its
// input unchanged (a policy that blocks nothing), works live: a replay
// would not call the hook, and a copy is cheaper than a comparison.
func (r *Filter) Reset(c *Cache, f *htmlfilter.Filter, w io.Writer, p Policy, opt htmlfilter.Options, doc Document) {
	*r = Filter{f: f, p: p, out: output{next: w}, check: r.check, buffers: r.emptied(), lookups: r.lookups + 1}
	f.Reset(&r.out, p, opt)
	r.check.Reset(f)
	if c == nil || opt.OnBlock != nil || f.Copies() {
		return
	}
	r.key = c.appendKey(r.key, p, opt, doc)
	r.c, r.h = c, maphash.Bytes(c.seed, r.key)
	e := c.lookup(r.h, r.key, r.lookups%touchEvery == 0)
	switch {
	case e != nil && !e.volatile:
		r.mode, r.e = replaying, e
		return
	case e != nil && !c.retryDue(e):
		return
	case e != nil:
		// Left alone until now: seen before, no doorkeeper.
		r.misses = e.misses
	case !c.admit(r.h):
		return
	}
	if doc.Length > int64(c.maxDoc) || !c.claim(r.h) {
		return
	}
	r.startRecording(doc)
}

// feed gives the live filter p, through the UTF-8 check.
func (r *Filter) feed(p []byte) error {
	_, err := r.check.Write(p)
	return err
}

// closeFilter ends the live filter's document, after an incomplete
// sequence at its end.
func (r *Filter) closeFilter() error {
	if err := r.check.Close(); err != nil {
		return err
	}
	return r.f.Close()
}

// Remembered returns the remembered input's and output's lengths when r
// replays: the output's is the document's filtered length if its input
// turns out to be the remembered one.
func (r *Filter) Remembered() (in, out int, ok bool) {
	if r.mode != replaying || r.diverged {
		return 0, 0, false
	}
	return len(r.e.in), len(r.e.out), true
}

// PromiseLength tells r that the caller promised the remembered output's
// length to its client: should the document differ, Write and Close return
// ErrPromised instead of going live.
func (r *Filter) PromiseLength() { r.promised = true }

// WithdrawPromise tells r that the promise of PromiseLength is taken back.
func (r *Filter) WithdrawPromise() { r.promised = false }

// Write filters p, or checks it against the remembered document and writes
// what that decides. The document is UTF-8, checked or not: the Filter
// checks it where the live filter reads it (charset.UTF8Check), as a
// UTF-8 decoder would. A remembered document was valid (one that the
// check changed is not remembered), so input equal to it needs no check;
// and the live filter takes a document over, and gives it back, only at
// points right after a '>' or before a '<', where no sequence is pending,
// so what it reads is what a check of the whole document would give it.
func (r *Filter) Write(p []byte) (int, error) {
	switch r.mode {
	case replaying:
		return r.replay(p)
	case resuming:
		return r.resume(p)
	case recording:
		return r.record(p)
	}
	if err := r.feed(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// replay checks p against the remembered document and writes the output
// that its marks say is decided. Where p differs, the live filter takes
// the document from the last point before the difference.
func (r *Filter) replay(p []byte) (int, error) {
	e := r.e
	before := r.splicing()
	m := r.take(p)
	if m < len(p) && r.promised {
		r.undo(before)
		return 0, ErrPromised
	}
	r.read += m
	r.equalIn += m
	r.consume(p[:m])
	r.passed = e.marksFrom(r.passed, r.read)
	if r.passed > 0 {
		// The first output leaves at once, the rest in large writes:
		// each write to a chunked response costs two system calls, and
		// the output is in the cache, so waiting costs no memory. A
		// short input write says the upstream is slower than we are:
		// then nothing waits. Flush and Close write what is left.
		if o := int(e.marks[r.passed-1].out); r.written == 0 || len(p) < shortWrite || o-r.written >= emitAtLeast {
			if err := r.emit(o); err != nil {
				return 0, err
			}
		}
	}
	if m == len(p) {
		return len(p), nil
	}
	if err := r.handOver(); err != nil {
		return 0, err
	}
	// Not again before the byte that differed.
	r.noResume = r.liveIn + 1
	n, err := r.resume(p[m:])
	return m + n, err
}

// equalPrefix returns how many bytes a and b have in common at their start.
// bytes.Equal stops at the first block of 64 bytes that differs but does
// not say where it is, so the blocks go from coarse to fine: a difference
// far into a write costs one pass over what precedes it and a block, not
// two passes.
func equalPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for _, block := range [...]int{4 << 10, 64} {
		for i < n {
			k := min(block, n-i)
			if !bytes.Equal(a[i:i+k], b[i:i+k]) {
				break
			}
			i += k
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// consume notes p as read from the document.
func (r *Filter) consume(p []byte) {
	r.liveIn += len(p)
	r.tl.add(p)
}

// emitAtLeast is how much decided output a replay lets gather before it
// writes it: a chunked response of 0.5 MiB leaves in four writes, not one
// per upstream read.
const emitAtLeast = 128 << 10

// shortWrite is an input write short enough to say that the upstream
// paused: reverse_proxy reads 32 KiB at a time.
const shortWrite = 16 << 10

// Flush writes the output a replay has decided and not yet written: the
// upstream paused, or streams.
func (r *Filter) Flush() error {
	if r.mode != replaying || r.passed == 0 {
		return nil
	}
	return r.emit(int(r.e.marks[r.passed-1].out))
}

// abandon stops a recording (too long, or failed); the document goes on
// live. The output recorded and not yet written is dropped: the caller
// writes it first (sendCopy) if it is to be written.
func (r *Filter) abandon() {
	r.mode = live
	r.out.copy, r.out.sent = nil, 0
	r.in, r.marks, r.points, r.cuts, r.states, r.journal = nil, nil, nil, nil, nil, nil
	r.f.Journal(nil)
	r.f.Trace(nil)
	r.trace = htmlfilter.Trace{}
	r.c.unclaim(r.h)
}

// Release ends r's part in a document that is not closed (the response was
// aborted): a recording in progress is dropped. It drops r's references
// to the document, the policy and the next writer; the wrapped filter is
// the caller's to reset.
func (r *Filter) Release() {
	if r.mode == recording {
		r.abandon()
	}
	r.check.Reset(nil)
	*r = Filter{check: r.check, buffers: r.emptied()}
}

// buffers are a Filter's arrays, kept from one document to the next.
type buffers struct {
	key      []byte           // the document's key
	sbuf     []byte           // the policy's state (Policy.AppendState)
	patches  []patch          // a replay's splices since it last went live (splice.go)
	patchBuf []byte           // their bytes
	skipBuf  []byte           // out.skip, where patched
	feedBuf  []byte           // what a hand-over feeds, where patched
	judged   []byte           // a script's new text, judged (splice.go)
	trace    htmlfilter.Trace // a recording's runs and unread values
}

// emptied returns b's arrays with nothing in them. A Filter lives as long
// as the response it serves: what grew large for one document (a
// hand-over far from its point) is not kept, nor a recording's trace, which
// a document in a thousand needs.
func (b *buffers) emptied() buffers {
	return buffers{
		key: b.key[:0], sbuf: b.sbuf[:0], patches: b.patches[:0],
		patchBuf: small(b.patchBuf), skipBuf: small(b.skipBuf), feedBuf: small(b.feedBuf), judged: small(b.judged),
	}
}

// small returns b emptied, or nil if its array is larger than a buffer a
// Filter keeps.
func small(b []byte) []byte {
	if cap(b) > 4<<10 {
		return nil
	}
	return b[:0]
}

// Close ends the document: the rest of the remembered output, or the live
// filter's end. A recording that ended well is remembered.
func (r *Filter) Close() error {
	switch r.mode {
	case replaying:
		if r.read == len(r.e.in) {
			return r.closeReplay()
		}
		if r.promised {
			return ErrPromised
		}
		if err := r.handOver(); err != nil {
			return err
		}
		return r.closeLive()
	case resuming:
		return r.closeLive()
	case recording:
		err := r.closeFilter()
		if serr := r.out.sendCopy(); err == nil {
			err = serr
		}
		if err == nil && len(r.in) > 0 && !r.check.Replaced() {
			r.c.remember(r.h, r.recorded())
		}
		r.abandon()
		return err
	}
	return r.closeFilter()
}

// closeReplay writes the rest of the remembered output: the whole
// document was read, equal from the point the replay is at.
func (r *Filter) closeReplay() error {
	e := r.e
	if r.diverged {
		e.countEvents(r.f, e.points[r.base].events, int32(len(e.events)))
		r.settle()
	} else if !e.replayed.Load() {
		e.replayed.Store(true)
	}
	return r.emit(len(e.out))
}

// closeLive ends a document the live filter has, after a difference.
func (r *Filter) closeLive() error {
	r.settle()
	if err := r.closeFilter(); err != nil {
		return err
	}
	if len(r.out.skip) > 0 {
		return ErrDiffers
	}
	return nil
}

// settle decides, once a document differed from the remembered one,
// whether its key is left alone: unless most of it was replayed, the page
// changes too much for the entry to pay.
func (r *Filter) settle() {
	if 2*r.equalIn >= r.liveIn && r.liveIn > 0 {
		return
	}
	misses := r.e.misses + 1
	if r.e.replayed.Load() {
		misses = 1
	}
	r.c.leaveAlone(r.h, r.key, misses)
}

// Replayed reports whether the document was written from the cache whole.
func (r *Filter) Replayed() bool { return r.mode == replaying && !r.diverged }

// Resumed reports how many bytes of a document that differed from the
// remembered one were replayed all the same.
func (r *Filter) Resumed() int {
	if !r.diverged {
		return 0
	}
	return r.equalIn
}

// Removed is what was removed from the document, as the filter's Removed.
// Of a document replayed whole it is the remembered page's, which nothing
// changes: it may be kept after the Filter is reset.
func (r *Filter) Removed() []htmlfilter.Removal {
	if r.mode == replaying && !r.diverged {
		return r.e.removed
	}
	return r.f.Removed()
}
