package rules

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/dgraph-io/ristretto/v2"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// The script cache: a site sends the same inline scripts (its tag snippets,
// its bootstrap code) with page after page, and reading one costs a few
// microseconds per KiB (normalising, then the automaton), while looking it
// up costs two hashes and a map probe. What is cached is what a script
// names (its vendors), not a verdict, so one entry serves every consent
// state. BenchmarkScriptCache shows what it buys.

// minCachedScript: below this a script is read faster than it is hashed
// and looked up.
const minCachedScript = 256

type scriptEntry struct {
	n       int    // length of the script text
	check   uint64 // a second, independent hash of it
	vendors []int32
}

type scriptCache struct {
	c           *ristretto.Cache[uint64, *scriptEntry]
	seed, check maphash.Seed
	// seen is a doorkeeper: a script is cached on its second sighting, so
	// the many scripts seen once (a page's own data) never pay for an
	// insertion. Direct-mapped; a lost race or an overwrite only delays
	// caching.
	seen [4096]atomic.Uint64
}

// EnableScriptCache turns the script cache on for every page of r, bounded
// to about maxBytes. It is for the process's lifetime; calling it again
// keeps the cache there is. Keys are 64-bit hashes under a per-process
// random seed, and an entry is used only when the script's length and a
// second hash under another seed match too: a crafted collision would need
// both seeds.
func (r *Rules) EnableScriptCache(maxBytes int64) error {
	if r.scripts.Load() != nil {
		return nil
	}
	c, err := ristretto.NewCache(&ristretto.Config[uint64, *scriptEntry]{
		NumCounters: max(maxBytes/64, 1000), // ~10 counters per entry of ~640 bytes' worth
		MaxCost:     maxBytes,
		BufferItems: 64,
	})
	if err != nil {
		return err
	}
	r.scripts.CompareAndSwap(nil, &scriptCache{c: c, seed: maphash.MakeSeed(), check: maphash.MakeSeed()})
	return nil
}

// script classifies text through the cache.
func (c *scriptCache) script(p *Page, text []byte) htmlfilter.Verdict {
	k := maphash.Bytes(c.seed, text)
	chk := maphash.Bytes(c.check, text)
	if e, ok := c.c.Get(k); ok && e.n == len(text) && e.check == chk {
		return p.verdictOf(e.vendors)
	}
	p.scr = normalizeScript(p.scr[:0], text)
	if slot := &c.seen[k%uint64(len(c.seen))]; slot.Load() != k {
		slot.Store(k)
		return p.scanScript(p.scr, nil)
	}
	var found []int32
	v := p.scanScript(p.scr, &found)
	// The cost is the entry's size, not the script's: the text is not kept.
	c.c.Set(k, &scriptEntry{n: len(text), check: chk, vendors: found}, int64(64+4*len(found)))
	return v
}
