package consent

import (
	"sync/atomic"

	"github.com/consentedge/consentedge/internal/textcache"
	"github.com/consentedge/consentedge/rules"
)

// The source cache: reading a consent tool's cookie (percent-decoding and
// parsing JSON, a query string or a TC string) costs 1 to 5 µs and a dozen
// allocations, and a visitor sends the same value with every request of a
// visit. What is cached is the reading (Stated, and whether the value was
// well formed), keyed by the value, the source and the name map that
// resolved it. BenchmarkSourceCache shows what it buys; the tools whose
// values read in a few hundred nanoseconds (ours, Complianz, tarteaucitron)
// are not cached.

// sourceReading is a cached reading, with what it was read for.
type sourceReading struct {
	source string
	names  uint64 // NameMap.id
	st     Stated
	ok     bool
}

// sourceEntryCost approximates an entry's memory: the struct, the key and
// ristretto's bookkeeping; vendor-level readings add their bit sets.
const sourceEntryCost = 128

// cachedSources are the sources whose reading pays for a lookup.
var cachedSources = map[string]bool{
	SourceCookieConsent: true, SourceKlaro: true, SourceCookiebot: true,
	SourceOneTrust: true, SourceCookieYes: true, SourceTCF: true,
}

// SourceCache remembers readings of consent tools' cookies for one rule
// set (Config.Cache). An entry answers only for the source and the
// name map it was read for. It is safe for concurrent use; its owner closes
// it when no reading uses it any more (Close is not safe during use).
type SourceCache struct {
	rules *rules.Rules // the category sets kept are this rule set's
	c     *textcache.Cache[sourceReading]
}

// NewSourceCache returns a source cache for r, bounded to about maxBytes
// (textcache.Cache).
func (r *Reader) NewSourceCache(maxBytes int64) (*SourceCache, error) {
	c, err := textcache.New[sourceReading](maxBytes, sourceEntryCost)
	if err != nil {
		return nil, err
	}
	return &SourceCache{rules: r.rules, c: c}, nil
}

// Close stops the cache's goroutines and frees its memory. The cache must
// not be in use; closing again does nothing.
func (c *SourceCache) Close() { c.c.Close() }

// readSource is ReadSource through sc, when it is one of r's.
func (r *Reader) readSource(sc *SourceCache, source, name, value string, m *NameMap) (Stated, bool) {
	if sc == nil || sc.rules != r.rules || !cachedSources[source] || len(value) > maxSourceValue {
		return r.ReadSource(source, name, value, m)
	}
	c := sc.c
	k := c.KeyString(value)
	e, found, admit := c.Lookup(k)
	if found && e.source == source && e.names == m.id {
		return e.st, e.ok
	}
	st, ok := r.ReadSource(source, name, value, m)
	if admit {
		cost := sourceEntryCost + 8*int64(len(st.VendorGrant)+len(st.VendorDeny))
		c.Set(k, sourceReading{source: source, names: m.id, st: st, ok: ok}, cost)
	}
	return st, ok
}

// nameMapIDs numbers name maps for the source cache; 0 is the defaults.
var nameMapIDs atomic.Uint64
