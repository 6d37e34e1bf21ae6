// Package pagecache remembers what an htmlfilter.Filter made of a document,
// so that the same document filtered under the same options and policy again
// costs a comparison instead of a scan. It is pure Go: it knows the filter
// and nothing of HTTP.
//
// Nothing is ever answered from it: the document is read every time, and a
// remembered output is written only for input that has arrived and equals,
// byte for byte, the input it was made from. The filter's output depends on
// nothing but its input, its policy and its options, which the key names
// (key.go); so equal input under an equal key gives equal output, whatever
// the chunking.
//
// A document that differs from the remembered one, at any byte, is handed
// to the live filter from the last point of the remembered document before
// the difference (points.go): a place where the filter's state was small
// and whole, which the live filter is put in. Its output up to what was
// already written is checked and dropped: a remembered prefix never
// decides more than the live filter would have decided from the same
// bytes. The live filter then looks, at each cut of the document after the
// difference (cut.go), for a point of the remembered document after the
// same bytes whose state it is in; from there the replay goes on. So a page
// rendered per request, with a token in its head, is scanned only around
// its token. A key whose documents differ too much for that to pay is left
// alone for a while (volatileFor, doubling with each difference in a row),
// so that a page that differs every time costs one lookup, not a recording
// and a second scan each time; so is the key of a document found too long
// to remember only as it arrives.
//
// A document comes as UTF-8, checked or not: what the live filter reads
// is checked as a UTF-8 decoder would (Filter.Write), and what equals a
// remembered document, which was valid, is not checked again.
package pagecache

import (
	"bytes"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/consentedge/consentedge/rules/htmlfilter"
	"github.com/dgraph-io/ristretto/v2"
)

// Cache holds the remembered documents of one rule set (its owner's: the
// key does not name the rules).
type Cache struct {
	c      *ristretto.Cache[uint64, *entry]
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
	// dialects numbers the dialects the key names: a dialect holds a
	// function, which has no bytes to compare. The map keeps each one
	// alive, so a number never names two dialects.
	dialects sync.Map // *htmlfilter.Dialect → uint64
	nDialect atomic.Uint64
	now      func() time.Time // the clock of leaveAlone; tests set it
	// front holds the documents found last, by hash: a page replayed
	// again and again is found without ristretto's shard lock and access
	// ring, memory that every core writes. An entry that leaves ristretto
	// is marked gone and taken out of it (exit), so that the front neither
	// finds it nor keeps its memory past the cache's bound.
	front [frontSlots]atomic.Pointer[entry]
}

// entry is one remembered document, or the mark of a key left alone
// (volatile). Immutable once in the cache, but for replayed.
type entry struct {
	hash    uint64 // the key's hash, which the cache files it under
	key     []byte // compared whole: a hash collision of keys is no hit
	in, out []byte
	marks   []mark
	points  []point  // points[0] is the start
	cuts    []cutRef // the points after cuts, by hash
	states  [][]byte // the policy's states at the points
	events  []int32  // the removals in order, as indices in removed
	removed []htmlfilter.Removal
	spans   []span // the unread values, in order (splice.go)
	// misses: the key's documents differed from the remembered one this
	// many times in a row (carried from a volatile entry into the
	// recording made after it).
	misses uint8
	// replayed is set once the entry wrote a document whole: its key's
	// next difference is a first one again, whatever came before.
	replayed atomic.Bool
	// gone is set once the entry left ristretto (replaced, evicted or
	// closed): the front no longer returns it.
	gone atomic.Bool
	// volatile: the key's documents differ; it is filtered live, not
	// recorded, until retry (unix ns).
	volatile bool
	retry    int64
}

// mark says that out[:out] was written once in[:in] had been read. Marks
// are at most markStep input bytes apart, so that a replay writes as early
// as the live filter did, however its input is chunked. Offsets are
// int32, as in point: a remembered document is far shorter (New).
type mark struct{ in, out int32 }

const (
	markStep      = 4 << 10
	pointStep     = 1 << 10 // a recording has a point about every pointStep bytes, where it may
	volatileFor   = time.Minute
	maxMisses     = 7 // a key left alone at most volatileFor<<(maxMisses-1): about an hour
	maxRecordings = 4
	frontSlots    = 1024
	// touchEvery: one lookup in touchEvery of a Filter goes to ristretto
	// even when the front has the entry, so that ristretto's admission
	// policy still counts the pages found in the front.
	touchEvery = 8
)

// New bounds the remembered documents to about maxBytes (input and output
// together) and remembers none longer than maxDoc bytes (at most 1 GiB:
// offsets in a remembered document are int32).
func New(maxBytes int64, maxDoc int) (*Cache, error) {
	maxDoc = min(maxDoc, 1<<30)
	c := &Cache{seed: maphash.MakeSeed(), maxDoc: maxDoc, now: time.Now}
	var err error
	c.c, err = ristretto.NewCache(&ristretto.Config[uint64, *entry]{
		// Ten counters per entry of a typical page (64 KiB in and out).
		NumCounters: max(10*maxBytes/(64<<10), 1000),
		MaxCost:     maxBytes,
		BufferItems: 64,
		OnExit:      c.exit,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// exit is told of every entry that leaves ristretto: replaced, evicted,
// expired or dropped at Close (nil for a Del of a missing key).
func (c *Cache) exit(e *entry) {
	if e != nil {
		e.gone.Store(true)
		c.front[e.hash%frontSlots].CompareAndSwap(e, nil)
	}
}

// Close stops the cache's goroutines and drops its entries.
func (c *Cache) Close() { c.c.Close() }

// Wait waits for pending insertions: ristretto applies a Set
// asynchronously, and a test that expects a replay must wait for it.
func (c *Cache) Wait() { c.c.Wait() }

// lookup returns the entry of key, if there is one for exactly that key.
// touch: ask ristretto even if the front has it, which counts the access.
func (c *Cache) lookup(h uint64, key []byte, touch bool) *entry {
	slot := &c.front[h%frontSlots]
	if !touch {
		if e := slot.Load(); e != nil && !e.gone.Load() && bytes.Equal(e.key, key) {
			return e
		}
	}
	e, ok := c.c.Get(h)
	if !ok || !bytes.Equal(e.key, key) {
		return nil
	}
	// A volatile entry expires, which ristretto's Get checks and the
	// front would not.
	if !e.volatile && slot.Load() != e {
		slot.Store(e)
		if e.gone.Load() { // it left between the Get and the Store
			slot.CompareAndSwap(e, nil)
		}
	}
	return e
}

// admit marks h seen and reports whether it had been seen before.
func (c *Cache) admit(h uint64) bool {
	slot := &c.seen[h%uint64(len(c.seen))]
	if slot.Load() == h {
		return true
	}
	slot.Store(h)
	return false
}

// leaveAlone marks key as not to be remembered for a while: volatileFor
// after a first difference, twice as long after each further one in a
// row. A page rendered per request then costs a recording and a
// comparison a few times a day, not once a minute: a recording is the
// scan, two copies of the page and their garbage. The mark outlives its
// retry time, so that the next difference finds the count.
func (c *Cache) leaveAlone(h uint64, key []byte, misses uint8) {
	misses = min(max(misses, 1), maxMisses)
	wait := volatileFor << (misses - 1)
	e := &entry{hash: h, key: bytes.Clone(key), volatile: true, misses: misses, retry: c.now().Add(wait).UnixNano()}
	c.c.SetWithTTL(h, e, int64(len(key))+64, 2*wait)
}

// retryDue reports whether a key left alone (e) may be recorded again.
func (c *Cache) retryDue(e *entry) bool { return c.now().UnixNano() >= e.retry }

// claim takes h's recording slot and one of the maxRecordings; false if
// either is taken.
func (c *Cache) claim(h uint64) bool {
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

func (c *Cache) unclaim(h uint64) {
	c.recording[h%uint64(len(c.recording))].Store(0)
	c.active.Add(-1)
}

// remember stores a recorded document.
func (c *Cache) remember(h uint64, e *entry) {
	cost := int64(cap(e.in)+cap(e.out)+len(e.key)) + 256 +
		int64(unsafe.Sizeof(mark{}))*int64(cap(e.marks)) + int64(unsafe.Sizeof(point{}))*int64(cap(e.points)) +
		int64(unsafe.Sizeof(cutRef{}))*int64(cap(e.cuts)) + 4*int64(cap(e.events)) +
		int64(unsafe.Sizeof(span{}))*int64(cap(e.spans))
	e.hash = h
	c.c.Set(h, e, cost)
}

// dialect returns d's number in this cache's keys (0 for nil).
func (c *Cache) dialect(d *htmlfilter.Dialect) uint64 {
	if d == nil {
		return 0
	}
	if n, ok := c.dialects.Load(d); ok {
		return n.(uint64)
	}
	n, _ := c.dialects.LoadOrStore(d, c.nDialect.Add(1))
	return n.(uint64)
}
