package caddymodule

import (
	"cmp"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/pagecache"
	"github.com/consentedge/consentedge/rules"
)

// caches are the memory a handler keeps between requests: classified inline
// scripts, read consent-tool cookies and filtered pages. The handler owns
// them, not the rule set (which stays immutable and may be the process-wide
// default), so that a config reload frees them: each holds goroutines and
// megabytes of counters.
//
// Cleanup can run while requests of the old config are still being served
// (past the server's grace_period), and ristretto's Close is not safe
// during a Get or Set. So every request holds the caches (acquire, release)
// and the last one out after Cleanup closes them.
type caches struct {
	scripts *rules.ScriptCache
	sources *consent.SourceCache
	pages   *pagecache.Cache // nil: page_cache off

	users     atomic.Int64 // requests holding the caches, plus closing
	closeOnce sync.Once
	closed    atomic.Bool // the caches are closed (for tests)
}

// closing marks users once the caches are to close; the count below it
// goes on counting the requests that still hold them.
const closing = 1 << 62

// noCaches stands in for a handler's caches after they closed: a request
// that arrives then is served without any.
var noCaches = new(caches)

// newCaches makes the caches of a handler with rule set rs; pageBytes bounds
// the page cache (0: the default, -1: off).
func newCaches(rs *rules.Rules, pageBytes int64) (*caches, error) {
	c := new(caches)
	var err error
	// Sites send the same inline scripts page after page: classify each
	// once (bounded to 8 MiB of entries; BenchmarkScriptCache).
	if c.scripts, err = rs.NewScriptCache(8 << 20); err != nil {
		return nil, fmt.Errorf("consent: script cache: %w", err)
	}
	// A visitor sends the same consent tool cookie with every request:
	// read each value once (4 MiB, about 32,000 values;
	// BenchmarkSourceCache).
	if c.sources, err = consent.NewReader(rs).NewSourceCache(4 << 20); err != nil {
		c.close()
		return nil, fmt.Errorf("consent: source cache: %w", err)
	}
	if pageBytes >= 0 {
		size := cmp.Or(pageBytes, defaultPageCache)
		// A page is remembered whole, input and output: none over 1 MiB
		// (few are), nor over an eighth of the cache.
		if c.pages, err = pagecache.New(size, int(min(1<<20, size/8))); err != nil {
			c.close()
			return nil, fmt.Errorf("consent: page cache: %w", err)
		}
	}
	return c, nil
}

// acquire holds the caches for one request, which releases them when it
// is done. After shutdown it returns noCaches, which need no release.
func (c *caches) acquire() *caches {
	if c == nil {
		return noCaches
	}
	if c.users.Add(1)&closing != 0 {
		c.release()
		return noCaches
	}
	return c
}

// release ends a request's hold; the last one after shutdown closes.
func (c *caches) release() {
	if c == noCaches {
		return
	}
	if c.users.Add(-1) == closing {
		c.closeOnce.Do(c.close)
	}
}

// shutdown closes the caches now if no request holds them, else when the
// last one releases them.
func (c *caches) shutdown() {
	if c.users.Add(closing) == closing {
		c.closeOnce.Do(c.close)
	}
}

func (c *caches) close() {
	c.closed.Store(true)
	if c.scripts != nil {
		c.scripts.Close()
	}
	if c.sources != nil {
		c.sources.Close()
	}
	if c.pages != nil {
		c.pages.Close()
	}
}
