package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
)

// BenchmarkHandler is a response through the handler, written the way
// reverse_proxy writes it (32 KiB at a time), for a visitor without
// consent: the allocations per response are the same for one copy of the
// test document and for a thousand (issue 5: a fixed number per response,
// none per element).
func BenchmarkHandler(b *testing.B) {
	h, _ := newTestHandler(b, nil)
	h.logger = zap.NewNop()
	for _, n := range []int{1, 1000} {
		page := []byte(strings.Repeat(trackedDoc, n))
		name := map[int]string{1: "one-document", 1000: "thousand-documents"}[n]
		b.Run(name, func(b *testing.B) {
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
