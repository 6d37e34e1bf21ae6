package rules

import (
	"bytes"
	"errors"
	"hash/maphash"
	"io"
	"sync/atomic"
	"time"

	"github.com/consentedge/consentedge/rules/htmlfilter"
	"github.com/dgraph-io/ristretto/v2"
)

// PageCache remembers what the filter made of a document, so that the same
// document filtered for the same visitor state again costs a comparison
// instead of a scan. Nothing is ever answered from it: the origin is asked
// every time, and a remembered output is written only for input that has
// arrived and equals, byte for byte, the input it was made from. The
// filter's output depends on nothing but its input, its policy and its
// options, which the key names; so equal input under an equal key gives
// equal output, whatever the chunking.
//
// A document that differs from the remembered one, at any byte, is filtered
// from its start by a live filter, whose output up to what was already
// written is checked and dropped: a remembered prefix never decides more
// than the live filter would have decided from the same bytes. Such a
// document's key is then left alone for a while (volatileFor), so that a
// page that differs every time costs one lookup, not a recording and a
// second scan each time; so is the key of a document found too long to
// remember only as it arrives.
type PageCache struct {
	c      *ristretto.Cache[uint64, *pageEntry]
	seed   maphash.Seed
	maxDoc int
	// seen is a doorkeeper: a document is recorded on its key's second
	// sighting, so pages seen once never pay for a copy.
	seen [4096]atomic.Uint64
	// recording holds the keys being recorded: one recording per key at a
	// time, so that many visitors of one page arriving together do not
	// each copy it.
	recording [256]atomic.Uint64
	// active counts recordings in flight: each holds up to two copies of
	// maxDoc bytes, and at most maxRecordings are held at once.
	active atomic.Int32
}

// pageEntry is one remembered document. Immutable once in the cache.
type pageEntry struct {
	key      []byte // compared whole: a hash collision of keys is no hit
	in, out  []byte
	marks    []pageMark
	removed  []htmlfilter.Removal
	volatile bool // the key's documents differ: do not record it for now
}

// pageMark says that out[:out] was written once in[:in] had been read.
// Marks are at most markStep input bytes apart, so that a replay writes as
// early as the live filter did, however its input is chunked.
type pageMark struct{ in, out int }

const (
	markStep      = 4 << 10
	volatileFor   = time.Minute
	maxRecordings = 4
)

// ErrBroken is returned when a replay whose output length was promised
// must go live, and its Promise says the response cannot go on.
var ErrBroken = errors.New("page cache: the document differs from the remembered one after its length was promised")

// Promise is a caller's promise of a replay's output length to its client
// (a Content-Length): Break is called before a replay that differs goes
// live, and says whether the promise could be taken back (the length is
// not sent yet). If not, the replay writes nothing more and its Write or
// Close returns ErrBroken.
type Promise interface{ Break() bool }

// ErrReplay is returned when a live filter's output disagrees with the
// remembered output already written: the filter would then not be a
// function of its input, and the response cannot go on consistently.
var ErrReplay = errors.New("page cache: filter output differs from the remembered output")

// NewPageCache bounds the remembered documents to about maxBytes (input and
// output together) and remembers none longer than maxDoc bytes.
func NewPageCache(maxBytes int64, maxDoc int) (*PageCache, error) {
	c, err := ristretto.NewCache(&ristretto.Config[uint64, *pageEntry]{
		// Ten counters per entry of a typical page (64 KiB in and out).
		NumCounters: max(10*maxBytes/(64<<10), 1000),
		MaxCost:     maxBytes,
		BufferItems: 64,
	})
	if err != nil {
		return nil, err
	}
	return &PageCache{c: c, seed: maphash.MakeSeed(), maxDoc: maxDoc}, nil
}

// Close stops the cache's goroutines and drops its entries.
func (c *PageCache) Close() { c.c.Close() }

// Wait waits for pending insertions (tests).
func (c *PageCache) Wait() { c.c.Wait() }

// lookup returns the entry of key, if there is one for exactly that key.
func (c *PageCache) lookup(h uint64, key []byte) *pageEntry {
	if e, ok := c.c.Get(h); ok && bytes.Equal(e.key, key) {
		return e
	}
	return nil
}

// admit marks h seen and reports whether it had been seen before.
func (c *PageCache) admit(h uint64) bool {
	slot := &c.seen[h%uint64(len(c.seen))]
	if slot.Load() == h {
		return true
	}
	slot.Store(h)
	return false
}

// leaveAlone marks key as not to be remembered for volatileFor.
func (c *PageCache) leaveAlone(h uint64, key []byte) {
	c.c.SetWithTTL(h, &pageEntry{key: bytes.Clone(key), volatile: true}, int64(len(key))+64, volatileFor)
}

// claim takes h's recording slot and one of the maxRecordings; false if
// either is taken.
func (c *PageCache) claim(h uint64) bool {
	if c.active.Add(1) > maxRecordings {
		c.active.Add(-1)
		return false
	}
	if !c.recording[h%uint64(len(c.recording))].CompareAndSwap(0, h|1) {
		c.active.Add(-1)
		return false
	}
	return true
}

func (c *PageCache) unclaim(h uint64) {
	c.recording[h%uint64(len(c.recording))].Store(0)
	c.active.Add(-1)
}

// Replay is one document's way through a PageCache: the writer in front of
// its filter. Sink, then Reset, prepare it for a document; it keeps no
// buffer of its own (a recording's copies go into the cache).
type Replay struct {
	c    *PageCache
	f    *htmlfilter.Filter
	key  []byte // the caller's, for this document only
	h    uint64
	mode replayMode
	sink replaySink

	// replaying
	promise Promise
	e       *pageEntry
	read    int // e.in[:read] has been read and was equal
	wrot    int // e.out[:wrot] has been written
	mark    int // e.marks[:mark] are at or before read

	// recording
	in    []byte
	marks []pageMark
}

type replayMode uint8

const (
	live replayMode = iota
	replaying
	recording
	broken // a promised replay that differs: nothing more is written
)

// replaySink is the filter's writer: it passes output on, keeps a copy
// while recording, and, after a replay went live, checks and drops what
// the replay already wrote.
type replaySink struct {
	next io.Writer
	copy *[]byte // recording: output is appended here
	skip []byte  // output already written by the replay, still to be met
}

func (s *replaySink) Write(p []byte) (int, error) {
	n := len(p)
	if len(s.skip) > 0 {
		k := min(len(p), len(s.skip))
		if !bytes.Equal(p[:k], s.skip[:k]) {
			return 0, ErrReplay
		}
		s.skip, p = s.skip[k:], p[k:]
		if len(p) == 0 {
			return n, nil
		}
	}
	if s.copy != nil {
		*s.copy = append(*s.copy, p...)
	}
	if _, err := s.next.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}

// Sink returns the writer the filter is to write to, passing on to next.
func (r *Replay) Sink(next io.Writer) io.Writer {
	r.sink = replaySink{next: next}
	return &r.sink
}

// Reset prepares r for a document of declared length (-1 if unknown) that
// f, reset to write to r.Sink, filters. key must name everything the
// filter's output depends on besides the document: the policy's inputs
// (rules, page URL, consent), the filter's options (mode, dialect,
// preludes), and should name the document (its URL) so that different
// documents do not take turns in one entry. A nil cache or key filters
// live. f must not have an OnBlock hook: a replay does not call it.
func (r *Replay) Reset(c *PageCache, key []byte, declared int64, f *htmlfilter.Filter) {
	*r = Replay{f: f, sink: replaySink{next: r.sink.next}, key: key}
	if c == nil || key == nil || f.Copies() {
		return
	}
	r.c, r.h = c, maphash.Bytes(c.seed, key)
	if e := c.lookup(r.h, key); e != nil {
		if !e.volatile {
			r.mode, r.e = replaying, e
		}
		return
	}
	if declared > int64(c.maxDoc) || !c.admit(r.h) || !c.claim(r.h) {
		return
	}
	r.mode = recording
	// The copies go into the cache: fresh ones each time.
	size := markStep
	if declared > 0 {
		size = int(declared)
	}
	r.in = make([]byte, 0, size)
	out := make([]byte, 0, size)
	r.sink.copy = &out
}

// Lengths returns the remembered input's and output's lengths when r
// replays: the output's is the document's filtered length if its input
// turns out to be the remembered one.
func (r *Replay) Lengths() (in, out int, ok bool) {
	if r.mode != replaying {
		return 0, 0, false
	}
	return len(r.e.in), len(r.e.out), true
}

// Keep makes p the promise of r's output length (Lengths).
func (r *Replay) Keep(p Promise) { r.promise = p }

// Write filters p, or checks it against the remembered document and writes
// what that decides.
func (r *Replay) Write(p []byte) (int, error) {
	switch r.mode {
	case broken:
		return 0, ErrBroken
	case replaying:
		if end := r.read + len(p); end <= len(r.e.in) && bytes.Equal(p, r.e.in[r.read:end]) {
			r.read = end
			for r.mark < len(r.e.marks) && r.e.marks[r.mark].in <= r.read {
				r.mark++
			}
			if r.mark > 0 {
				return len(p), r.emit(r.e.marks[r.mark-1].out)
			}
			return len(p), nil
		}
		if err := r.goLive(); err != nil {
			return 0, err
		}
		return r.f.Write(p)
	case recording:
		n := len(p)
		for len(p) > 0 && r.mode == recording {
			k := min(len(p), markStep)
			r.in = append(r.in, p[:k]...)
			if _, err := r.f.Write(p[:k]); err != nil {
				r.abandon()
				return 0, err
			}
			r.marks = append(r.marks, pageMark{len(r.in), len(*r.sink.copy)})
			p = p[k:]
			if len(r.in) > r.c.maxDoc {
				// Too long to remember: not worth trying again soon.
				r.c.leaveAlone(r.h, r.key)
				r.abandon()
			}
		}
		if len(p) > 0 {
			if _, err := r.f.Write(p); err != nil {
				return 0, err
			}
		}
		return n, nil
	}
	return r.f.Write(p)
}

// emit writes the remembered output up to o.
func (r *Replay) emit(o int) error {
	if o <= r.wrot {
		return nil
	}
	_, err := r.sink.next.Write(r.e.out[r.wrot:o])
	r.wrot = o
	return err
}

// goLive hands the document to the live filter: the remembered input read
// so far, then what follows. The live filter's output up to what the
// replay wrote is checked against it and dropped.
func (r *Replay) goLive() error {
	if r.promise != nil && !r.promise.Break() {
		r.mode = broken
		return ErrBroken
	}
	e := r.e
	r.mode, r.e = live, nil
	r.c.leaveAlone(r.h, r.key)
	r.sink.skip = e.out[:r.wrot]
	if r.read == 0 {
		return nil
	}
	_, err := r.f.Write(e.in[:r.read])
	return err
}

// abandon stops a recording (too long, or failed); the document goes on live.
func (r *Replay) abandon() {
	r.mode = live
	r.sink.copy = nil
	r.in, r.marks = nil, nil
	r.c.unclaim(r.h)
}

// Release ends r's part in a document that is not closed (the response was
// aborted): a recording in progress is dropped.
func (r *Replay) Release() {
	if r.mode == recording {
		r.abandon()
	}
}

// Close ends the document: the rest of the remembered output, or the live
// filter's end. A recording that ended well is remembered.
func (r *Replay) Close() error {
	switch r.mode {
	case broken:
		return ErrBroken
	case replaying:
		if r.read == len(r.e.in) {
			return r.emit(len(r.e.out))
		}
		if err := r.goLive(); err != nil {
			return err
		}
		if err := r.f.Close(); err != nil {
			return err
		}
		if len(r.sink.skip) > 0 {
			return ErrReplay
		}
		return nil
	case recording:
		err := r.f.Close()
		if err == nil && len(r.in) > 0 {
			e := &pageEntry{
				key: bytes.Clone(r.key), in: r.in, out: *r.sink.copy,
				marks: r.marks, removed: append([]htmlfilter.Removal(nil), r.f.Removed()...),
			}
			cost := int64(cap(e.in)+cap(e.out)+16*cap(e.marks)+len(e.key)) + 256
			r.c.c.Set(r.h, e, cost)
		}
		r.abandon()
		return err
	}
	return r.f.Close()
}

// Replayed reports whether the document was written from the cache.
func (r *Replay) Replayed() bool { return r.mode == replaying }

// Removed is what was removed from the document, as the filter's Removed.
func (r *Replay) Removed() []htmlfilter.Removal {
	if r.mode == replaying || r.mode == broken {
		return r.e.removed
	}
	return r.f.Removed()
}
