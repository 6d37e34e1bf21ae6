package rules

import "sync/atomic"

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
// ristretto's bookkeeping.
const sourceEntryCost = 128

// cachedSources are the sources whose reading pays for a lookup.
var cachedSources = map[string]bool{
	SourceCookieConsent: true, SourceKlaro: true, SourceCookiebot: true,
	SourceOneTrust: true, SourceCookieYes: true, SourceTCF: true,
}

// EnableSourceCache turns the source cache on for r, bounded to about
// maxBytes (verifiedCache), for the process's lifetime (calling it again
// keeps the cache there is). An entry answers only for the source and the
// name map it was read for.
func (r *Rules) EnableSourceCache(maxBytes int64) error {
	if r.sources.Load() != nil {
		return nil
	}
	c, err := newVerifiedCache[sourceReading](maxBytes, sourceEntryCost)
	if err != nil {
		return err
	}
	r.sources.CompareAndSwap(nil, c)
	return nil
}

// readSource is ReadSource through the cache, when it is on.
func (r *Rules) readSource(source, name, value string, m *NameMap) (Stated, bool) {
	c := r.sources.Load()
	if c == nil || !cachedSources[source] || len(value) > maxSourceValue {
		return r.ReadSource(source, name, value, m)
	}
	k := c.keyString(value)
	if e, ok := c.get(k); ok && e.source == source && e.names == m.id {
		return e.st, e.ok
	}
	st, ok := r.ReadSource(source, name, value, m)
	if c.admit(k) {
		c.set(k, sourceReading{source: source, names: m.id, st: st, ok: ok}, sourceEntryCost)
	}
	return st, ok
}

// nameMapIDs numbers name maps for the source cache; 0 is the defaults.
var nameMapIDs atomic.Uint64
