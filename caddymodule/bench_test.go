package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
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
