package rules

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/dgraph-io/ristretto/v2"
)

// The source cache: reading a consent tool's cookie (percent-decoding and
// parsing JSON, a query string or a TC string) costs 1 to 5 µs and a dozen
// allocations, and a visitor sends the same value with every request of a
// visit. What is cached is the reading (Stated, and whether the value was
// well formed), keyed by the value, the source and the name map that
// resolved it. BenchmarkSourceCache shows what it buys; the tools whose
// values read in a few hundred nanoseconds (ours, Complianz, tarteaucitron)
// are not cached.

type sourceEntry struct {
	n      int    // length of the value
	check  uint64 // a second, independent hash of it
	source string
	names  uint64 // NameMap.id
	st     Stated
	ok     bool
}

type sourceCache struct {
	c           *ristretto.Cache[uint64, *sourceEntry]
	seed, check maphash.Seed
	// seen is a doorkeeper, as in the script cache: a value is cached on
	// its second sighting, so that one-request visitors never pay for an
	// insertion (which costs about as much as a reading).
	seen [4096]atomic.Uint64
}

// sourceEntryCost approximates an entry's memory: the struct, the key and
// ristretto's bookkeeping.
const sourceEntryCost = 128

// cachedSources are the sources whose reading pays for a lookup.
var cachedSources = map[string]bool{
	SourceCookieConsent: true, SourceKlaro: true, SourceCookiebot: true,
	SourceOneTrust: true, SourceCookieYes: true, SourceTCF: true,
}

// EnableSourceCache turns the source cache on for r, bounded to about
// maxBytes, for the process's lifetime (calling it again keeps the cache
// there is). As with the script cache, an entry is used only when the
// value's length and a second hash under another seed match, and its
// source and name map are the ones asked for.
func (r *Rules) EnableSourceCache(maxBytes int64) error {
	if r.sources.Load() != nil {
		return nil
	}
	c, err := ristretto.NewCache(&ristretto.Config[uint64, *sourceEntry]{
		NumCounters: max(10*maxBytes/sourceEntryCost, 1000),
		MaxCost:     maxBytes,
		BufferItems: 64,
	})
	if err != nil {
		return err
	}
	r.sources.CompareAndSwap(nil, &sourceCache{c: c, seed: maphash.MakeSeed(), check: maphash.MakeSeed()})
	return nil
}

// readSource is ReadSource through the cache, when it is on.
func (r *Rules) readSource(source, name, value string, m *NameMap) (Stated, bool) {
	c := r.sources.Load()
	if c == nil || !cachedSources[source] || len(value) > maxSourceValue {
		return r.ReadSource(source, name, value, m)
	}
	k := maphash.String(c.seed, value)
	chk := maphash.String(c.check, value)
	if e, ok := c.c.Get(k); ok && e.n == len(value) && e.check == chk && e.source == source && e.names == m.id {
		return e.st, e.ok
	}
	st, ok := r.ReadSource(source, name, value, m)
	if slot := &c.seen[k%uint64(len(c.seen))]; slot.Load() != k {
		slot.Store(k)
		return st, ok
	}
	c.c.Set(k, &sourceEntry{n: len(value), check: chk, source: source, names: m.id, st: st, ok: ok}, sourceEntryCost)
	return st, ok
}

// nameMapIDs numbers name maps for the source cache; 0 is the defaults.
var nameMapIDs atomic.Uint64
