package rules

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

func BenchmarkURL(b *testing.B) {
	p := Default().NewPage(testPage, 0)
	for _, bc := range []struct{ name, raw string }{
		{"fast-relative", "/static/img/product-1234.webp?v=3"},
		{"fast-absolute-benign", "https://cdn.shop.example/assets/app.9f8e7d.js"},
		{"fast-absolute-tracker", "https://www.googletagmanager.com/gtag/js?id=G-ABC123"},
		{"fast-scheme-relative", "//connect.facebook.net/en_US/fbevents.js"},
		{"slow-percent-host", "https://%77ww.google-analytics.com/analytics.js"},
		{"slow-userinfo", "https://cdn.example@connect.facebook.net/x.js"},
	} {
		raw := []byte(bc.raw)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.URL(raw)
			}
		})
	}
}

func BenchmarkScript(b *testing.B) {
	p := Default().NewPage(testPage, 0)
	for _, bc := range []struct{ name, text string }{
		{"first-party-2KB", firstPartyScript()},
		{"ga-snippet", scriptTests[0].text},
		{"meta-pixel", scriptTests[7].text},
	} {
		text := []byte(bc.text)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				p.Script(text)
			}
		})
	}
}

func BenchmarkConsent(b *testing.B) {
	r := Default()
	h := http.Header{
		"Cookie":  {"_ga=GA1.2.123.456; _gid=GA1.2.789; sessionid=abcdef0123456789; consent=functional.analytics; cart=3"},
		"Sec-Gpc": {"1"},
	}
	cfg := ConsentConfig{GPC: true}
	b.ReportAllocs()
	for b.Loop() {
		r.Consent(h, cfg)
	}
}

func BenchmarkNewPage(b *testing.B) {
	r := Default()
	b.ReportAllocs()
	for b.Loop() {
		r.NewPage(testPage, 0)
	}
}

// filterDoc filters doc for a visitor without consent through p and f,
// reset first as the handler resets them, in 32 KiB writes as
// reverse_proxy makes them.
func filterDoc(rs *Rules, sc *ScriptCache, p *Page, f *htmlfilter.Filter, doc []byte) {
	p.Reset(rs, "https://www.example.com/", 0)
	p.UseScriptCache(sc)
	f.Reset(io.Discard, p, htmlfilter.Options{})
	for len(doc) > 0 {
		n := min(32<<10, len(doc))
		f.Write(doc[:n])
		doc = doc[n:]
	}
	f.Close()
}

// BenchmarkFilterRules is the filter with the real rule set and a visitor who
// granted nothing (the filter does its most work), over the real pages in
// the folder CONSENTEDGE_CORPUS names, or the test pages without one.
func BenchmarkFilterRules(b *testing.B) {
	pages := map[string][]byte{}
	var files []string
	if dir := os.Getenv("CONSENTEDGE_CORPUS"); dir != "" {
		files, _ = filepath.Glob(filepath.Join(dir, "*.html"))
	}
	if len(files) == 0 {
		files, _ = filepath.Glob("../testdata/pages/*.html")
	}
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			pages[filepath.Base(f)] = data
		}
	}
	rs := Default()
	filterAll := func(b *testing.B, docs [][]byte) {
		n := 0
		for _, d := range docs {
			n += len(d)
		}
		b.SetBytes(int64(n))
		b.ReportAllocs()
		// One Page and one Filter, reset per page, as the handler keeps
		// them in its pooled writer.
		p := rs.NewPage("https://www.example.com/", 0)
		f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
		for b.Loop() {
			for _, page := range docs {
				filterDoc(rs, nil, p, f, page)
			}
		}
	}
	var all [][]byte
	for name, page := range pages {
		all = append(all, page)
		b.Run(name, func(b *testing.B) { filterAll(b, [][]byte{page}) })
	}
	// Every page once per op: the throughput over the whole corpus.
	b.Run("all-pages", func(b *testing.B) { filterAll(b, all) })
}

// BenchmarkPageCache is what the page cache buys on the real parsing
// chapter (or the largest test page), written in 32 KiB pieces, for a
// visitor who granted nothing:
//   - live: the filter, no cache (a page seen for the first time, or the
//     cache off);
//   - record: the filter and the copies of input and output (a page's
//     second sighting);
//   - replay: the page as remembered (a page that repeats);
//   - differs: a page whose last byte differs from the remembered one, the
//     worst case: the whole comparison, then the whole page filtered live.
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
	rs := Default()
	c, err := NewPageCache(64<<20, 2<<20)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	p := rs.NewPage("https://www.example.com/", 0)
	f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
	var r Replay
	run := func(key []byte, doc []byte, setup func()) {
		p.Reset(rs, "https://www.example.com/", 0)
		f.Reset(r.Sink(io.Discard), p, htmlfilter.Options{})
		r.Reset(c, key, int64(len(doc)), f)
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
	key := []byte("https://www.example.com/")
	for range 2 {
		run(key, doc, nil)
		c.Wait()
	}
	e := c.lookup(maphash.Bytes(c.seed, key), key)
	if e == nil {
		b.Fatal("page not remembered")
	}
	b.Run("live", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			run(nil, doc, nil)
		}
	})
	b.Run("replay", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			run(key, doc, nil)
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
			run(key, differs, func() { r.mode, r.e = replaying, e })
		}
	})
	b.Run("record", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			k := binary.LittleEndian.AppendUint64([]byte("record"), uint64(i))
			c.admit(maphash.Bytes(c.seed, k))
			run(k, doc, nil)
		}
	})
}
