package pagecache

import (
	"bytes"
	"errors"
	"hash/maphash"
	"io"

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
// It keeps no buffer of its own but the key's: a recording's copies go into
// the cache. A Filter must not be copied once Reset.
type Filter struct {
	c    *Cache
	f    *htmlfilter.Filter
	key  []byte // this document's key; the buffer is kept across documents
	h    uint64
	mode mode
	out  output
	// misses: the key's documents differed this many times in a row
	// before this one (entry.misses).
	misses uint8

	// replaying
	e        *entry
	promised bool // the caller promised len(e.out) to its client
	read     int  // e.in[:read] has been read and was equal
	written  int  // e.out[:written] has been written
	passed   int  // e.marks[:passed] are at or before read

	// recording
	in    []byte
	marks []mark
}

type mode uint8

const (
	live mode = iota
	replaying
	recording
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
	*r = Filter{f: f, key: r.key[:0], out: output{next: w}}
	f.Reset(&r.out, p, opt)
	if c == nil || opt.OnBlock != nil || f.Copies() {
		return
	}
	r.key = c.appendKey(r.key, p, opt, doc)
	r.c, r.h = c, maphash.Bytes(c.seed, r.key)
	e := c.lookup(r.h, r.key)
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

// startRecording makes r record its document, which it may.
func (r *Filter) startRecording(doc Document) {
	r.mode = recording
	// The copies go into the cache: fresh ones each time.
	size := markStep
	if doc.Length > 0 {
		size = int(doc.Length)
	}
	r.in = make([]byte, 0, size)
	out := make([]byte, 0, size)
	r.out.copy = &out
}

// Remembered returns the remembered input's and output's lengths when r
// replays: the output's is the document's filtered length if its input
// turns out to be the remembered one.
func (r *Filter) Remembered() (in, out int, ok bool) {
	if r.mode != replaying {
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
// what that decides.
func (r *Filter) Write(p []byte) (int, error) {
	switch r.mode {
	case replaying:
		if end := r.read + len(p); end <= len(r.e.in) && bytes.Equal(p, r.e.in[r.read:end]) {
			r.read = end
			for r.passed < len(r.e.marks) && r.e.marks[r.passed].in <= r.read {
				r.passed++
			}
			if r.passed > 0 {
				return len(p), r.emit(r.e.marks[r.passed-1].out)
			}
			return len(p), nil
		}
		if r.promised {
			return 0, ErrPromised
		}
		if err := r.goLive(); err != nil {
			return 0, err
		}
		return r.f.Write(p)
	case recording:
		return r.record(p)
	}
	return r.f.Write(p)
}

// record filters p and copies it, with a mark every markStep bytes, and
// writes on the output p made.
func (r *Filter) record(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && r.mode == recording {
		k := min(len(p), markStep)
		r.in = append(r.in, p[:k]...)
		if _, err := r.f.Write(p[:k]); err != nil {
			_ = r.out.sendCopy() // what the filter wrote before its error, as live
			r.abandon()
			return 0, err
		}
		r.marks = append(r.marks, mark{len(r.in), len(*r.out.copy)})
		p = p[k:]
		if len(r.in) > r.c.maxDoc {
			// Too long to remember: not worth trying again soon.
			r.c.leaveAlone(r.h, r.key, r.misses+1)
			err := r.out.sendCopy()
			r.abandon()
			if err != nil {
				return 0, err
			}
		}
	}
	if err := r.out.sendCopy(); err != nil {
		r.abandon()
		return 0, err
	}
	if len(p) > 0 {
		if _, err := r.f.Write(p); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// emit writes the remembered output up to o.
func (r *Filter) emit(o int) error {
	if o <= r.written {
		return nil
	}
	_, err := r.out.next.Write(r.e.out[r.written:o])
	r.written = o
	return err
}

// goLive hands the document to the live filter: the remembered input read
// so far, then what follows. The live filter's output up to what the
// replay wrote is checked against it and dropped.
func (r *Filter) goLive() error {
	e := r.e
	r.mode, r.e = live, nil
	misses := e.misses + 1
	if e.replayed.Load() {
		misses = 1
	}
	r.c.leaveAlone(r.h, r.key, misses)
	r.out.skip = e.out[:r.written]
	if r.read == 0 {
		return nil
	}
	_, err := r.f.Write(e.in[:r.read])
	return err
}

// abandon stops a recording (too long, or failed); the document goes on
// live. The output recorded and not yet written is dropped: the caller
// writes it first (sendCopy) if it is to be written.
func (r *Filter) abandon() {
	r.mode = live
	r.out.copy, r.out.sent = nil, 0
	r.in, r.marks = nil, nil
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
	*r = Filter{key: r.key[:0]}
}

// Close ends the document: the rest of the remembered output, or the live
// filter's end. A recording that ended well is remembered.
func (r *Filter) Close() error {
	switch r.mode {
	case replaying:
		if r.read == len(r.e.in) {
			if !r.e.replayed.Load() {
				r.e.replayed.Store(true)
			}
			return r.emit(len(r.e.out))
		}
		if r.promised {
			return ErrPromised
		}
		if err := r.goLive(); err != nil {
			return err
		}
		if err := r.f.Close(); err != nil {
			return err
		}
		if len(r.out.skip) > 0 {
			return ErrDiffers
		}
		return nil
	case recording:
		err := r.f.Close()
		if serr := r.out.sendCopy(); err == nil {
			err = serr
		}
		if err == nil && len(r.in) > 0 {
			r.c.remember(r.h, &entry{
				key: bytes.Clone(r.key), in: r.in, out: *r.out.copy, misses: r.misses,
				marks: r.marks, removed: append([]htmlfilter.Removal(nil), r.f.Removed()...),
			})
		}
		r.abandon()
		return err
	}
	return r.f.Close()
}

// Replayed reports whether the document was written from the cache.
func (r *Filter) Replayed() bool { return r.mode == replaying }

// Removed is what was removed from the document, as the filter's Removed.
func (r *Filter) Removed() []htmlfilter.Removal {
	if r.mode == replaying {
		return r.e.removed
	}
	return r.f.Removed()
}
