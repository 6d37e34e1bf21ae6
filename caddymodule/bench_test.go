package caddymodule

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/consentedge/consentedge/internal/benchpage"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// BenchmarkHandler is a response through the handler, written the way
// reverse_proxy writes it (32 KiB at a time), for a visitor without
// consent: the allocations per response are the same for one copy of the
// test document and for a thousand (a fixed number per response, none
// per element). The page cache is off but in the replayed case,
// where the page repeats and is written from the cache.
func BenchmarkHandler(b *testing.B) {
	live, _ := newTestHandler(b, func(h *Handler) { h.PageCache = -1 })
	live.logger = zap.NewNop()
	cached, _ := newTestHandler(b, nil)
	cached.logger = zap.NewNop()
	for _, c := range []struct {
		name string
		n    int
		h    *Handler
	}{{"one-document", 1, live}, {"thousand-documents", 1000, live}, {"thousand-documents-replayed", 1000, cached}} {
		page := []byte(strings.Repeat(trackedDoc, c.n))
		h := c.h
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			origin := func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				for p := page; len(p) > 0; {
					k := min(len(p), 32<<10)
					if _, err := w.Write(p[:k]); err != nil {
						return err
					}
					p = p[k:]
				}
				return nil
			}
			req := httptest.NewRequest("GET", "/", nil)
			for b.Loop() {
				if err := h.ServeHTTP(discardWriter{http.Header{}}, req, caddyhttp.HandlerFunc(origin)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFirstBytes is the demo page (4.8 KB, about what the first
// upstream read of a page holds) through the handler with warm caches, and
// with the CPU caches evicted before each response, as on a machine where
// other processes run between requests; for a visitor who denied all and
// one who granted all (the filter passes the page). The difference is what
// consent adds to the time to first byte at idle (docs/performance.md).
func BenchmarkFirstBytes(b *testing.B) {
	h, _ := newTestHandler(b, nil)
	h.logger = zap.NewNop()
	page, err := os.ReadFile("../testdata/demo/index.html")
	if err != nil {
		b.Fatal(err)
	}
	origin := func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(page)))
		_, err := w.Write(page)
		return err
	}
	denied := httptest.NewRequest("GET", "/", nil)
	granted := httptest.NewRequest("GET", "/", nil)
	granted.Header.Set("Cookie", "consent=functional.analytics.advertising")
	for _, c := range []struct {
		name string
		req  *http.Request
	}{{"denied", denied}, {"granted", granted}} {
		serve := func() {
			if err := h.ServeHTTP(discardWriter{http.Header{}}, c.req, caddyhttp.HandlerFunc(origin)); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(c.name+"/warm", func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				serve()
			}
		})
		b.Run(c.name+"/cold", func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			junk := make([]byte, 32<<20) // more than this machine's L2 and its share of L3
			for range b.N {
				b.StopTimer()
				for i := 0; i < len(junk); i += 64 {
					junk[i]++
				}
				b.StartTimer()
				serve()
			}
		})
	}
}

// BenchmarkDynamic is a page rendered per request, as most are: each
// response differs from the last by a token in the head (a CSRF token in a
// meta tag and in the page's bootstrap script, a CSP nonce on an inline
// script), so the page cache (on, as shipped) never replays it. The origin
// declares the length and writes 32 KiB at a time, as reverse_proxy does;
// the client's writer counts the writes and flushes that reach it (each a
// system call or more on a real connection). For each page:
//   - plain: the same bytes straight to the client's writer, the proxy
//     without consent;
//   - scan: the filter alone over the same bytes, with the handler's
//     classifier and script cache;
//   - handler: the whole handler.
//
// What consent adds to a response beyond its scan is handler − scan −
// plain. The pages are the bench's generated shop pages at 5 KB, 120 KB
// and 0.5 MiB, and cloudflare.com's home page (119 KB) when the folder
// CONSENTEDGE_CORPUS names holds it.
func BenchmarkDynamic(b *testing.B) {
	h, _ := newTestHandler(b, nil)
	h.logger = zap.NewNop()
	for _, page := range dynamicPages() {
		// A URL per page: the page cache keeps one entry per URL.
		req := httptest.NewRequest("GET", "http://www.example.com/"+page.name, nil)
		origin := func(w http.ResponseWriter, r *http.Request) error {
			page.next()
			w.Header()["Content-Type"] = []string{"text/html; charset=utf-8"}
			w.Header()["Content-Length"] = []string{strconv.Itoa(len(page.b))}
			return writeChunked(w, page.b)
		}
		var client countingWriter
		b.Run(page.name+"/plain", func(b *testing.B) {
			client.measure(b, len(page.b), func() error { return origin(&client, req) })
		})
		b.Run(page.name+"/scan", func(b *testing.B) {
			policy := h.rules.NewClassifier("http://www.example.com/", 0)
			f := htmlfilter.New(io.Discard, nil, htmlfilter.Options{})
			client.measure(b, len(page.b), func() error {
				page.next()
				policy.Reset(h.rules, "http://www.example.com/", 0)
				policy.UseScriptCache(h.caches.scripts)
				f.Reset(&client, policy, htmlfilter.Options{Mode: h.mode, Dialect: h.dialect})
				if err := writeChunked(f, page.b); err != nil {
					return err
				}
				return f.Close()
			})
		})
		b.Run(page.name+"/handler", func(b *testing.B) {
			client.measure(b, len(page.b), func() error {
				return h.ServeHTTP(&client, req, caddyhttp.HandlerFunc(origin))
			})
		})
	}
}

// writeChunked writes p to w in 32 KiB writes, as reverse_proxy copies a
// body.
func writeChunked(w io.Writer, p []byte) error {
	for len(p) > 0 {
		k := min(len(p), 32<<10)
		if _, err := w.Write(p[:k]); err != nil {
			return err
		}
		p = p[k:]
	}
	return nil
}

// countingWriter is a client's ResponseWriter that counts what reaches it:
// writes and flushes per response are the system calls' proxy.
type countingWriter struct {
	h               http.Header
	writes, flushes int
}

func (c *countingWriter) Header() http.Header         { return c.h }
func (c *countingWriter) Write(p []byte) (int, error) { c.writes++; return len(p), nil }
func (c *countingWriter) WriteHeader(int)             {}
func (c *countingWriter) Flush()                      { c.flushes++ }

// measure runs serve as one response per iteration, with a fresh header
// map each time, and reports the writes and flushes per response, and the
// process's CPU time per response (cpu-ns/op), which other processes on a
// busy machine inflate less than ns/op.
func (c *countingWriter) measure(b *testing.B, size int, serve func() error) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	c.h, c.writes, c.flushes = http.Header{}, 0, 0
	start := cpuTime()
	for b.Loop() {
		clear(c.h)
		if err := serve(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(c.writes)/float64(b.N), "writes/op")
	b.ReportMetric(float64(c.flushes)/float64(b.N), "flushes/op")
}

// dynamicPage is a page whose token changes with every response (next).
type dynamicPage struct {
	name   string
	b      []byte
	tokens []int // where the token lies in b
	n      uint64
}

const pageToken = "TOKENTOKENTOKENTOKENTOKENTOKENTO" // 32 bytes, a CSRF token's length

// next writes the next response's token into the page, in place.
func (p *dynamicPage) next() {
	p.n++
	var tok [32]byte
	for i := range tok {
		tok[i] = "0123456789abcdef"[(p.n*0x9E3779B97F4A7C15>>(i%16*4))&15]
	}
	for _, at := range p.tokens {
		copy(p.b[at:], tok[:])
	}
}

// dynamicHead is what a framework puts in the head of a rendered page: a
// CSRF token, and a nonce on an inline script (a strict CSP).
const dynamicHead = `<meta name="csrf-token" content="` + pageToken + `">
<script nonce="` + pageToken + `">window.__APP__={"csrfToken":"` + pageToken + `","user":null,"locale":"en-GB","currency":"GBP","features":{"search":true,"wishlist":true,"reviews":false},"endpoints":{"api":"/api/v2","cart":"/cart.js","search":"/search/suggest.json"},"release":"2026.12.01-3f9c2a"};</script>
`

// dynamicPages returns the pages of BenchmarkDynamic, each with the
// token after its <head> tag.
func dynamicPages() []*dynamicPage {
	var pages []*dynamicPage
	add := func(name string, doc []byte) {
		i := bytes.Index(doc, []byte("<head"))
		i += bytes.IndexByte(doc[i:], '>') + 1
		page := []byte(string(doc[:i]) + dynamicHead + string(doc[i:]))
		p := &dynamicPage{name: name, b: page}
		for at := 0; ; {
			j := bytes.Index(page[at:], []byte(pageToken))
			if j < 0 {
				break
			}
			p.tokens = append(p.tokens, at+j)
			at += j + len(pageToken)
		}
		pages = append(pages, p)
	}
	for _, c := range []struct {
		name string
		size int
	}{{"5KB", 5 << 10}, {"120KB", 120 << 10}, {"512KB", 512 << 10}} {
		add(c.name, shopPage(c.size))
	}
	if doc, err := os.ReadFile(filepath.Join(os.Getenv("CONSENTEDGE_CORPUS"), "cloudflare.com.html")); err == nil {
		add("cloudflare", doc)
	}
	return pages
}

// shopPage is the bench's generated page of about size bytes, its slots
// filled with the token (the CSRF token and nonces) and a cart count.
func shopPage(size int) []byte {
	r := strings.NewReplacer("{{csrf}}", pageToken, "{{nonce}}", pageToken, "{{cart}}", "3")
	return []byte(r.Replace(string(benchpage.Shop(size))))
}
