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

	// users counts the requests holding the caches, in stripes: one count
	// that both cores change twice per request cost more than the rest of
	// the holding. A request adds and takes back in one stripe, so every
	// stripe stays at or above its own holders.
	users     *[countStripes]holdCount
	closing   atomic.Bool // set by shutdown, before it sums users
	closeOnce sync.Once
	closed    atomic.Bool // the caches are closed (for tests)
}

// holdCount is one stripe of caches.users, a cache line of its own.
type holdCount struct {
	n atomic.Int64
	_ [56]byte
}

// noCaches stands in for a handler's caches after they closed: a request
// that arrives then is served without any.
var noCaches = new(caches)

// newCaches makes the caches of a handler with rule set rs; pageBytes bounds
// the page cache (0: the default, -1: off).
func newCaches(rs *rules.Rules, pageBytes int64) (*caches, error) {
	c := &caches{users: new([countStripes]holdCount)}
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

// acquire holds the caches for one request, in stripe (any number), which
// release is given too. After shutdown it returns noCaches, which need no
// release.
//
// Why the last release closes, and nothing before: a request that found
// closing unset added its hold before shutdown set it, so every sum taken
// after that sees the hold until it is taken back; and whoever takes the
// last hold back finds closing set and sums to zero.
func (c *caches) acquire(stripe uint8) *caches {
	if c == nil {
		return noCaches
	}
	c.users[stripe%countStripes].n.Add(1)
	if c.closing.Load() {
		c.release(stripe)
		return noCaches
	}
	return c
}

// release ends a request's hold; the last one after shutdown closes.
func (c *caches) release(stripe uint8) {
	if c == noCaches {
		return
	}
	c.users[stripe%countStripes].n.Add(-1)
	if c.closing.Load() && c.held() == 0 {
		c.closeOnce.Do(c.close)
	}
}

// shutdown closes the caches now if no request holds them, else when the
// last one releases them.
func (c *caches) shutdown() {
	c.closing.Store(true)
	if c.held() == 0 {
		c.closeOnce.Do(c.close)
	}
}

// held sums the holds: once closing is set, only holds taken back lower it.
func (c *caches) held() int64 {
	var n int64
	for i := range c.users {
		n += c.users[i].n.Load()
	}
	return n
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
