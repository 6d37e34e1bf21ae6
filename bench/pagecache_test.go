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
//	go test ./bench -run '^$' -bench BenchmarkPageCacheDynamic
func BenchmarkPageCacheDynamic(b *testing.B) {
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
			docs = append(docs, rendered(pages[name], newValues()))
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
			i := 0
			for b.Loop() {
				run(docs[i%len(docs)])
				i++
			}
			b.ReportMetric(float64(len(docs[0])-r.Resumed()), "live-bytes/op")
		})
	}
}
