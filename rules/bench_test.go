package rules

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

func BenchmarkURL(b *testing.B) {
	p := Default().NewClassifier(testPage, 0)
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
	p := Default().NewClassifier(testPage, 0)
	for _, bc := range []struct{ name, text string }{
		{"first-party-2KB", firstPartyScript()},
		{"ga-snippet", scriptTests[0].text},
		{"meta-pixel", scriptTests[7].text},
		{"config-with-token", configScript},
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

func BenchmarkNewClassifier(b *testing.B) {
	r := Default()
	b.ReportAllocs()
	for b.Loop() {
		r.NewClassifier(testPage, 0)
	}
}

// filterDoc filters doc for a visitor without consent through p and f,
// reset first as the handler resets them, in 32 KiB writes as
// reverse_proxy makes them.
func filterDoc(rs *Rules, sc *ScriptCache, p *Classifier, f *htmlfilter.Filter, doc []byte) {
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
		// One Classifier and one Filter, reset per page, as the handler keeps
		// them in its pooled writer.
		p := rs.NewClassifier("https://www.example.com/", 0)
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

// configScript is the bench landing page's config script, whose token
// makes every response's script new to the script cache.
const configScript = `window.__CONFIG__={"env":"production","release":"2026.11.3","locale":"en","features":{"newNav":true,"pricingV2":true,"chat":false},"csrf":"T0k3n-5ZqX2c9mV7pL1wR8yB4nD6fH0jK3sA2gE"};`

// BenchmarkScriptCold classifies configScript as a proxy does between
// other responses: with the CPU's caches filled by other work first (a
// sweep of 8 MiB, untimed), so that the signature automaton's rows are
// read from memory.
func BenchmarkScriptCold(b *testing.B) {
	p := Default().NewClassifier(testPage, 0)
	text := []byte(configScript)
	sweep := make([]byte, 8<<20)
	var sink byte
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for i := 0; i < len(sweep); i += 64 {
			sweep[i]++
			sink += sweep[i]
		}
		b.StartTimer()
		p.Script(text)
	}
	_ = sink
}
