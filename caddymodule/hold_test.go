package caddymodule

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// recordingWriter is a client's ResponseWriter that keeps the body and
// counts the writes that reach it.
type recordingWriter struct {
	h      http.Header
	body   bytes.Buffer
	writes int
}

func (w *recordingWriter) Header() http.Header { return w.h }
func (w *recordingWriter) WriteHeader(int)     {}
func (w *recordingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.body.Write(p)
}

// TestGatherOneWritePerUpstreamWrite: a page with trackers all through it
// goes to the client in one write per upstream write, however many kept
// runs lie between the removed elements, and its bytes are those the
// filter writes piece by piece (the page cache off).
func TestGatherOneWritePerUpstreamWrite(t *testing.T) {
	page := []byte("<!DOCTYPE html><html><head><title>t</title></head><body>" +
		strings.Repeat(strings.Repeat("<p>text</p>\n", 400)+`<script src="https://connect.facebook.net/en_US/fbevents.js"></script><p>more</p>`+"\n", 50) +
		"</body></html>")
	serve := func(pageCache int64) *recordingWriter {
		h, _ := newTestHandler(t, func(h *Handler) { h.PageCache = pageCache })
		origin := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header()["Content-Type"] = []string{"text/html; charset=utf-8"}
			w.Header()["Content-Length"] = []string{strconv.Itoa(len(page))}
			return writeChunked(w, page)
		})
		client := &recordingWriter{h: http.Header{}}
		if err := h.ServeHTTP(client, httptest.NewRequest("GET", "http://www.example.com/", nil), origin); err != nil {
			t.Fatal(err)
		}
		return client
	}
	got := serve(-1)
	upstreamWrites := (len(page) + 32<<10 - 1) / (32 << 10)
	if got.writes > upstreamWrites+1 {
		t.Errorf("%d writes to the client for %d upstream writes", got.writes, upstreamWrites)
	}
	if bytes.Contains(got.body.Bytes(), []byte("facebook")) || !bytes.HasSuffix(got.body.Bytes(), []byte("</body></html>")) {
		t.Fatalf("body: %.200q ... %q", got.body.Bytes(), got.body.Bytes()[max(0, got.body.Len()-40):])
	}
	if want := strings.Count(string(page), "<p>more</p>"); strings.Count(got.body.String(), "<p>more</p>") != want {
		t.Errorf("kept runs lost: %d of %d", strings.Count(got.body.String(), "<p>more</p>"), want)
	}
}
