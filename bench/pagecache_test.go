package main

import (
	"io"
	"testing"

	"github.com/consentedge/consentedge/pagecache"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// BenchmarkPageCacheDynamic is the page cache and the filter, with a script
// cache as the handler has, on the dynamic origin's pages: each response
// has values of its own, written 32 KiB at a time; the page is remembered
// by then. What it reports per response is what the proxy's own code does
// with such a page, without net/http.
//
//	go test ./bench -run '^$' -bench BenchmarkPageCache
func BenchmarkPageCacheDynamic(b *testing.B) { benchmarkPageCache(b, newValues) }

// BenchmarkPageCacheRepeated is BenchmarkPageCacheDynamic with the static
// origin's values: the page is replayed whole. Its documents are as many
// copies as the dynamic one has documents, so that both read their input
// from as far in memory; what the dynamic one costs more is what its
// differences cost.
func BenchmarkPageCacheRepeated(b *testing.B) { benchmarkPageCache(b, staticValues) }

func benchmarkPageCache(b *testing.B, values func() pageValues) {
	pages, err := benchPages("..")
	if err != nil {
		b.Fatal(err)
	}
	rs := rules.Default()
	scripts, err := rs.NewScriptCache(8 << 20)
	if err != nil {
		b.Fatal(err)
	}
	defer scripts.Close()
	const pageURL = "https://www.northwind.example/"
	for _, name := range measuredPages {
		var docs [][]byte
		for range 64 {
			docs = append(docs, rendered(pages[name], values()))
		}
		b.Run(name, func(b *testing.B) {
			c, err := pagecache.New(64<<20, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
			cl := rs.NewClassifier(pageURL, 0)
			var r pagecache.Filter
			run := func(doc []byte) {
				cl.Reset(rs, pageURL, 0)
				cl.UseScriptCache(scripts)
				r.Reset(c, f, io.Discard, cl, htmlfilter.Options{}, pagecache.Document{URL: name, Length: int64(len(doc))})
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
			for _, doc := range docs[:3] { // live, recorded, then remembered
				run(doc)
				c.Wait()
			}
			b.SetBytes(int64(len(docs[0])))
			i, live := 0, 0
			for b.Loop() {
				doc := docs[i%len(docs)]
				run(doc)
				if !r.Replayed() {
					live += len(doc) - r.Resumed()
				}
				i++
			}
			b.ReportMetric(float64(live)/float64(i), "live-bytes/op")
		})
	}
}
