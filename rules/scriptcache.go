package rules

import (
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

// EnableScriptCache turns the script cache on for every page of r, bounded
// to about maxBytes (verifiedCache). It is for the process's lifetime;
// calling it again keeps the cache there is.
func (r *Rules) EnableScriptCache(maxBytes int64) error {
	if r.scripts.Load() != nil {
		return nil
	}
	// An entry of ~640 bytes' worth: the vendors a script names.
	c, err := newVerifiedCache[[]int32](maxBytes, 640)
	if err != nil {
		return err
	}
	r.scripts.CompareAndSwap(nil, c)
	return nil
}

// scriptThroughCache classifies text through the cache c.
func (p *Page) scriptThroughCache(c *verifiedCache[[]int32], text []byte) htmlfilter.Verdict {
	k := c.key(text)
	if vendors, ok := c.get(k); ok {
		return p.verdictOf(vendors)
	}
	p.scr = normalizeScript(p.scr[:0], text)
	if !c.admit(k) {
		return p.scanScript(p.scr, nil)
	}
	var found []int32
	v := p.scanScript(p.scr, &found)
	// The cost is the entry's size, not the script's: the text is not kept.
	c.set(k, found, int64(64+4*len(found)))
	return v
}
