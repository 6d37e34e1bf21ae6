package pagecache

import (
	"bytes"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// BenchmarkPageCache is what the page cache buys on the real parsing
// chapter (or the largest test page), written in 32 KiB pieces, for a
// visitor who granted nothing:
//   - live: the filter, no cache (a page seen for the first time, or the
//     cache off);
//   - record: the filter and the copies of input and output (a page's
//     second sighting);
//   - replay: the page as remembered (a page that repeats);
//   - differs: a page whose last byte differs from the remembered one, the
//     worst case: the whole comparison, then the whole page filtered live;
//   - differs-in-head: one whose 200th byte differs, as a page rendered
//     per request with a token in its head.
//
// record runs last: its entries push the remembered page out.
func BenchmarkPageCache(b *testing.B) {
	doc, err := os.ReadFile(filepath.Join(os.Getenv("CONSENTEDGE_CORPUS"), "html-parsing-spec.html"))
	if err != nil {
		files, _ := filepath.Glob("../testdata/pages/*.html")
		for _, f := range files {
			if d, err := os.ReadFile(f); err == nil && len(d) > len(doc) {
				doc = d
			}
		}
	}
	rs := rules.Default()
	c, err := New(64<<20, 2<<20)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	p := rs.NewClassifier("https://www.example.com/", 0)
	f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
	var r Filter
	run := func(cache *Cache, name string, doc []byte, setup func()) {
		p.Reset(rs, "https://www.example.com/", 0)
		r.Reset(cache, f, io.Discard, p, htmlfilter.Options{}, Document{URL: name, Length: int64(len(doc))})
		if setup != nil {
			setup()
		}
		for rest := doc; len(rest) > 0; {
			n := min(32<<10, len(rest))
			if _, err := r.Write(rest[:n]); err != nil {
				b.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
	}
	// Remember the page.
	for range 2 {
		run(c, "/", doc, nil)
		c.Wait()
	}
	key := c.appendKey(nil, p, htmlfilter.Options{}, Document{URL: "/"})
	e := c.lookup(maphash.Bytes(c.seed, key), key, true)
	if e == nil {
		b.Fatal("page not remembered")
	}
	b.Run("live", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			run(nil, "/", doc, nil)
		}
	})
	b.Run("replay", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			run(c, "/", doc, nil)
			if !r.Replayed() {
				b.Fatal("not replayed")
			}
		}
	})
	differs := bytes.Clone(doc)
	differs[len(differs)-1] ^= 1
	b.Run("differs", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			// As if remembered: the first one divergence makes volatile.
			run(c, "/", differs, func() { r.mode, r.e = replaying, e })
		}
	})
	// A page rendered per request differs early, in its head (a token).
	inHead := bytes.Clone(doc)
	inHead[min(200, len(inHead)-1)] ^= 1
	b.Run("differs-in-head", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			run(c, "/", inHead, func() { r.mode, r.e = replaying, e })
		}
	})
	b.Run("record", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			name := "/record/" + strconv.Itoa(i)
			k := c.appendKey(nil, p, htmlfilter.Options{}, Document{URL: name})
			c.admit(maphash.Bytes(c.seed, k))
			run(c, name, doc, nil)
		}
	})
}
