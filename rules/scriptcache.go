package rules

import (
	"github.com/consentedge/consentedge/internal/textcache"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// The script cache: a site sends the same inline scripts (its tag snippets,
// its bootstrap code) with page after page, and reading one costs a few
// microseconds per KiB (normalising, then the automaton), while looking it
// up costs two hashes and a map probe. What is cached is what a script
// names (its vendors), not a verdict, so one entry serves every consent
// state. BenchmarkScriptCache shows what it buys.

// minCachedScript: below this a script is read about as fast as it is
// hashed and looked up. With 342 vendors in the automaton, a hit costs
// about 0.11 us, reading 40 bytes 0.23 us and a tag's 129-byte config
// line 0.48 us (more under load, when the automaton's table is out of
// the CPU caches); a script seen once pays its hashing, about 0.05 us.
// Short scripts around a page's nonces are read on every response.
const minCachedScript = 64

// ScriptCache remembers the vendors each inline script names, for the pages
// of one rule set. It is safe for concurrent use; its owner closes it when
// no page uses it any more (Close is not safe during use, as ristretto's).
type ScriptCache struct {
	r *Rules // the vendor indexes kept are this rule set's
	c *textcache.Cache[[]int32]
}

// NewScriptCache returns a script cache for the pages of r, bounded to
// about maxBytes (textcache.Cache).
func (r *Rules) NewScriptCache(maxBytes int64) (*ScriptCache, error) {
	// An entry of ~640 bytes' worth: the vendors a script names.
	c, err := textcache.New[[]int32](maxBytes, 640)
	if err != nil {
		return nil, err
	}
	return &ScriptCache{r: r, c: c}, nil
}

// Close stops the cache's goroutines and frees its memory. The cache must
// not be in use; closing again does nothing.
func (c *ScriptCache) Close() { c.c.Close() }

// UseScriptCache makes p classify its scripts through c (nil: no cache),
// until the next Reset. A cache of another rule set is ignored: its entries
// name vendors by that set's indexes.
func (p *Classifier) UseScriptCache(c *ScriptCache) {
	if c != nil && c.r == p.r {
		p.scripts = c.c
		p.recent.use(c.c)
	}
}

// scriptThroughCache classifies text through the cache c.
func (p *Classifier) scriptThroughCache(c *textcache.Cache[[]int32], text []byte) htmlfilter.Verdict {
	k := c.Key(text)
	if vendors, ok := p.recent.get(k); ok {
		return p.verdictOf(vendors)
	}
	// A script seen for the first time is not looked up: one that
	// carries a page's token is one on every response.
	vendors, ok, admit := c.Lookup(k)
	if ok {
		p.recent.put(k, vendors)
		return p.verdictOf(vendors)
	}
	p.scr, p.raw = normalizeScript(p.scr[:0], text), text
	if !admit {
		return p.scanScript(p.scr, nil)
	}
	var found []int32
	v := p.scanScript(p.scr, &found)
	// The cost is the entry's size, not the script's: the text is not kept.
	c.Set(k, found, int64(64+4*len(found)))
	p.recent.put(k, found)
	return v
}

// recentScripts are the last scripts a classifier found in the shared
// cache or put there, by key: a server keeps a classifier per pooled
// response, and a site's pages repeat their scripts, so most lookups end
// here. That spares the shared cache's lookup its locking and its access
// bookkeeping (a push per Get, handed to ristretto's policy goroutine in
// batches). The vendors are the shared cache's own slices, never written.
// Direct-mapped: a page's few dozen scripts mostly keep their places.
type recentScripts struct {
	of      *textcache.Cache[[]int32] // keys are hashes under its seeds
	entries *[64]recentScript         // made by use
}

// recentScript is an entry of recentScripts. An empty one's key has length
// 0, which no script read through the cache has (minCachedScript).
type recentScript struct {
	k       textcache.Key
	vendors []int32
}

// use keeps the entries if they come from c, else forgets them: another
// cache hashes under other seeds, and serves another rule set.
func (r *recentScripts) use(c *textcache.Cache[[]int32]) {
	switch {
	case r.entries == nil:
		r.entries = new([64]recentScript)
	case r.of != c:
		*r.entries = [64]recentScript{}
	}
	r.of = c
}

func (r *recentScripts) get(k textcache.Key) ([]int32, bool) {
	e := &r.entries[k.Slot(len(r.entries))]
	return e.vendors, e.k == k
}

func (r *recentScripts) put(k textcache.Key, vendors []int32) {
	e := &r.entries[k.Slot(len(r.entries))]
	e.k, e.vendors = k, vendors
}
