// Package textcache maps texts (an inline script, a cookie value) to what
// reading them gave, without keeping the texts.
package textcache

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/dgraph-io/ristretto/v2"
)

// Cache maps a text (an inline script, a cookie value) to what reading it
// gave, for the script and consent-source caches. Keys are 64-bit hashes
// under a per-process random seed, and an entry is used only when the
// text's length and a second hash under another seed match too: a crafted
// collision would need both seeds. The text itself is not kept.
type Cache[V any] struct {
	c           *ristretto.Cache[uint64, *entry[V]]
	seed, check maphash.Seed
	// seen is a doorkeeper: a text is cached on its second sighting, so
	// the many seen once (a page's own data, a one-request visitor) never
	// pay for an insertion, which costs about as much as a reading.
	// Direct-mapped; a lost race or an overwrite only delays caching.
	seen [4096]atomic.Uint64
	// stored notes the keys set, at places of their second hashes: a text
	// whose place in seen another took since it was set is still looked
	// up (Lookup), and two cached texts that share a place in seen do not
	// keep each other from their entries.
	stored [4096]atomic.Uint64
}

type entry[V any] struct {
	n     int    // length of the text
	check uint64 // the second hash
	v     V
}

// Key is a text's two hashes and its length.
type Key struct {
	k, check uint64
	n        int
}

// New bounds the cache to about maxBytes of entries of about
// entryBytes each (ristretto wants ten counters per entry).
func New[V any](maxBytes, entryBytes int64) (*Cache[V], error) {
	c, err := ristretto.NewCache(&ristretto.Config[uint64, *entry[V]]{
		NumCounters: max(10*maxBytes/entryBytes, 1000),
		MaxCost:     maxBytes,
		BufferItems: 64,
	})
	if err != nil {
		return nil, err
	}
	return &Cache[V]{c: c, seed: maphash.MakeSeed(), check: maphash.MakeSeed()}, nil
}

func (c *Cache[V]) Key(text []byte) Key {
	return Key{maphash.Bytes(c.seed, text), maphash.Bytes(c.check, text), len(text)}
}

func (c *Cache[V]) KeyString(text string) Key {
	return Key{maphash.String(c.seed, text), maphash.String(c.check, text), len(text)}
}

func (c *Cache[V]) Get(k Key) (V, bool) {
	if e, ok := c.c.Get(k.k); ok && e.n == k.n && e.check == k.check {
		return e.v, true
	}
	var zero V
	return zero, false
}

// Slot is k's place in a direct-mapped table of n places.
func (k Key) Slot(n int) int { return int(k.k % uint64(n)) }

// Lookup finds k's value. A text seen for the first time is not looked
// up, and found is false: it cannot have been set, unless its place in
// seen went to another text since, and then stored says so. admit reports
// whether the caller, once it has read the text, is to set it: it was
// seen or set before.
func (c *Cache[V]) Lookup(k Key) (v V, found, admit bool) {
	if c.stored[k.storedSlot(len(c.stored))].Load() != k.k && !c.admit(k) {
		return v, false, false
	}
	v, found = c.Get(k)
	return v, found, true
}

// admit reports whether k is seen for the second time (the doorkeeper);
// it marks k seen.
func (c *Cache[V]) admit(k Key) bool {
	slot := &c.seen[k.Slot(len(c.seen))]
	if slot.Load() == k.k {
		return true
	}
	slot.Store(k.k)
	return false
}

// storedSlot is k's place in stored, by its second hash.
func (k Key) storedSlot(n int) int { return int(k.check % uint64(n)) }

// Set stores v for k; cost is the entry's size in bytes.
func (c *Cache[V]) Set(k Key, v V, cost int64) {
	c.c.Set(k.k, &entry[V]{n: k.n, check: k.check, v: v}, cost)
	c.stored[k.storedSlot(len(c.stored))].Store(k.k)
}

// Close stops the cache's goroutines and frees its memory. The cache must
// not be in use; closing again does nothing.
func (c *Cache[V]) Close() { c.c.Close() }

// Wait waits until the sets made so far are applied: ristretto admits them
// asynchronously. For tests.
func (c *Cache[V]) Wait() { c.c.Wait() }
