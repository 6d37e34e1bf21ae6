package caddymodule

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/internal/benchpage"
	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// A page with one tracker of the policy (the Meta pixel loader) beside
// benign content; used where a test needs the filter to act.
const (
	pixelTag   = `<script async src="https://connect.facebook.net/en_US/fbevents.js"></script>`
	pixelHost  = "connect.facebook.net"
	benignHTML = `<p>Follow <a href="https://www.facebook.com/acme">us</a></p><script src="/app.js"></script>`
	trackedDoc = "<!DOCTYPE html><html><head><title>t</title>" + pixelTag + "</head><body>" + benignHTML + "</body></html>"
)

// newTestHandler provisions a Handler the way Caddy would, with its logger
// replaced by an observer.
func newTestHandler(t testing.TB, mod func(*Handler)) (*Handler, *observer.ObservedLogs) {
	t.Helper()
	h := new(Handler)
	if mod != nil {
		mod(h)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatalf("provision: %v", err)
	}
	t.Cleanup(func() { _ = h.Cleanup() })
	if err := h.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	h.logger = zap.New(core)
	return h, logs
}

// serve runs one request through h with next as the origin.
func serve(h *Handler, req *http.Request, next func(http.ResponseWriter, *http.Request) error) (*httptest.ResponseRecorder, error) {
	rec := httptest.NewRecorder()
	err := h.ServeHTTP(rec, req, caddyhttp.HandlerFunc(next))
	return rec, err
}

// htmlOrigin answers with body as text/html and the given extra headers.
func htmlOrigin(body string, hdr ...string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Add(hdr[i], hdr[i+1])
		}
		_, err := io.WriteString(w, body)
		return err
	}
}

func TestFiltersHTML(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	req := httptest.NewRequest("GET", "http://shop.example/p?gclid=secret", nil)
	rec, err := serve(h, req, htmlOrigin(trackedDoc))
	if err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if !strings.Contains(body, benignHTML) {
		t.Errorf("benign content changed:\n%s", body)
	}
	// Needs the filter and the default rules.
	if strings.Contains(body, pixelHost) {
		t.Errorf("tracker survived with no consent:\n%s", body)
	}
	if n := logs.FilterMessage("filtered").Len(); n != 1 {
		t.Errorf("%d filtered log entries, want 1", n)
	}
}

// streamedHead is a page's head as an origin that streams sends it first,
// on one line: longer than the first bytes a filtered response holds
// (earlyLen), so that a flush after it reaches the client.
var streamedHead = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Shop</title>` +
	strings.Repeat(`<link rel="stylesheet" href="/assets/site.css"> `, 12) + `</head>`

func TestStreaming(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	firstRead := make(chan struct{})
	originDone := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			defer close(originDone)
			w.Header().Set("Content-Type", "text/html")
			if _, err := io.WriteString(w, streamedHead+"<body><p>first chunk</p>\n"); err != nil {
				return err
			}
			if err := http.NewResponseController(w).Flush(); err != nil {
				return err
			}
			// Block until the client has read the first chunk: only a
			// streaming filter lets the test get past this point.
			<-firstRead
			_, err := io.WriteString(w, "<p>second chunk</p></body></html>\n")
			return err
		}))
		if err != nil {
			t.Errorf("ServeHTTP: %v", err)
		}
	}))
	defer srv.Close()

	// The request runs in a goroutine: without streaming even the response
	// headers would wait for the origin, and the test must fail, not hang.
	type first struct {
		resp *http.Response
		br   *bufio.Reader
		line string
		err  error
	}
	got := make(chan first, 1)
	go func() {
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			got <- first{err: err}
			return
		}
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		got <- first{resp, br, line, err}
	}()
	var f first
	select {
	case f = <-got:
		if f.err != nil {
			t.Fatal(f.err)
		}
		if !strings.Contains(f.line, "first chunk") {
			t.Fatalf("first line %q", f.line)
		}
	case <-originDone:
		t.Fatal("origin finished before the client saw its first chunk")
	case <-time.After(10 * time.Second):
		close(firstRead)
		t.Fatal("first chunk did not reach the client while the origin was still writing: flush did not pass through")
	}
	resp, br := f.resp, f.br
	defer resp.Body.Close()
	close(firstRead)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rest), "second chunk") {
		t.Errorf("rest %q", rest)
	}
	if resp.Header.Get("Content-Length") != "" || resp.ContentLength != -1 {
		t.Errorf("filtered response has a length: %v", resp.ContentLength)
	}
}

// TestFlushPassesThrough: a flush reaches the next writer, except while a
// filtered response still holds its status and first bytes (earlyLen):
// committing them then would rule out a 502 should the upstream fail, and
// reverse_proxy flushes after every write of a body of unknown length.
func TestFlushPassesThrough(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	for _, tc := range []struct{ ct, body string }{{"text/html", streamedHead}, {"text/event-stream", ""}} {
		var held []bool // whether the status was still held after each flush
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", tc.ct)
			w.WriteHeader(http.StatusOK)
			if tc.body == "" {
				return http.NewResponseController(w).Flush()
			}
			flush := func() error {
				err := http.NewResponseController(w).Flush()
				held = append(held, !w.(*responseWriter).body.sent())
				return err
			}
			// The headers alone; a few bytes; then more than earlyLen.
			if err := flush(); err != nil {
				return err
			}
			_, _ = io.WriteString(w, "<p>first</p>")
			if err := flush(); err != nil {
				return err
			}
			_, _ = io.WriteString(w, tc.body)
			return flush()
		})
		if err != nil {
			t.Fatal(err)
		}
		if !rec.Flushed {
			t.Errorf("%s: flush did not reach the next writer", tc.ct)
		}
		if tc.body != "" && !slices.Equal(held, []bool{true, true, false}) {
			t.Errorf("%s: status held after each flush: %v, want held until more than %d bytes", tc.ct, held, earlyLen)
		}
	}
}

// noFlushWriter is a ResponseWriter that cannot flush, as some wrapper of
// another middleware may be.
type noFlushWriter struct {
	h    http.Header
	body bytes.Buffer
}

func (w *noFlushWriter) Header() http.Header         { return w.h }
func (w *noFlushWriter) Write(p []byte) (int, error) { return w.body.Write(p) }
func (w *noFlushWriter) WriteHeader(int)             {}

// TestWriterWithoutFlush: the early flush of a page's first bytes is an
// optimisation; a next writer that cannot flush still gets the whole page,
// filtered, and no error.
func TestWriterWithoutFlush(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	page := trackedDoc + strings.Repeat("<p>more</p>", 1000)
	w := &noFlushWriter{h: http.Header{}}
	err := h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		for p := page; len(p) > 0; {
			k := min(len(p), 1000)
			if _, err := io.WriteString(w, p[:k]); err != nil {
				return err
			}
			p = p[k:]
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := w.body.String(); strings.Contains(got, pixelHost) || !strings.HasSuffix(got, "<p>more</p>") {
		t.Errorf("body: %d bytes, tracker there: %v", len(got), strings.Contains(got, pixelHost))
	}
}

func TestNonHTMLUntouched(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	body := "\x89PNG\r\n\x1a\n" + trackedDoc // bytes that would be filtered if read as HTML
	for _, ct := range []string{"image/png", "application/json", "text/plain; charset=utf-8", "text/htmlx", "application/javascript"} {
		rec, err := serve(h, httptest.NewRequest("GET", "/img", nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", ct)
			w.Header().Set("Content-Length", "99")
			w.Header().Set("Accept-Ranges", "bytes")
			w.Header().Set("ETag", `"abc"`)
			_, err := io.WriteString(w, body)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Body.String() != body {
			t.Errorf("%s: body changed", ct)
		}
		hdr := rec.Result().Header
		if hdr.Get("Content-Length") != "99" || hdr.Get("Accept-Ranges") != "bytes" || hdr.Get("Etag") != `"abc"` || hdr.Get("Vary") != "" {
			t.Errorf("%s: headers changed: %v", ct, hdr)
		}
	}
	if logs.Len() != 0 {
		t.Errorf("log entries for unfiltered responses: %v", logs.All())
	}
}

func TestHTMLTypes(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	for _, ct := range []string{"text/html", "TEXT/HTML; charset=UTF-8", "text/html;charset=utf-8", " text/html ", "application/xhtml+xml", "Application/XHTML+XML; charset=utf-8"} {
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", ct)
			_, err := io.WriteString(w, trackedDoc)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !hasToken(rec.Result().Header["Vary"], "Cookie") {
			t.Errorf("%q not treated as HTML", ct)
		}
	}
}

func TestSniffsMissingContentType(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
		_, err := io.WriteString(w, trackedDoc)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res := rec.Result()
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !hasToken(res.Header["Vary"], "Cookie") {
		t.Errorf("untyped HTML not sniffed and filtered: %v", res.Header)
	}
}

func TestBodylessResponses(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	for _, tc := range []struct {
		method string
		status int
	}{
		{"HEAD", 200}, {"GET", 204}, {"GET", 304}, {"GET", 205},
	} {
		rec, err := serve(h, httptest.NewRequest(tc.method, "/", nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Length", "1234")
			w.WriteHeader(tc.status)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Code != tc.status || rec.Body.Len() != 0 {
			t.Errorf("%s %d: got %d with %d body bytes", tc.method, tc.status, rec.Code, rec.Body.Len())
		}
		if tc.method == "HEAD" {
			// RFC 9110 §9.3.2: the header fields GET would get.
			hdr := rec.Result().Header
			if hdr.Get("Content-Length") != "" || !hasToken(hdr["Vary"], "Cookie") {
				t.Errorf("HEAD headers differ from GET's: %v", hdr)
			}
		}
	}
	if n := logs.FilterMessage("filtered").Len(); n != 0 {
		t.Errorf("%d filtered entries for bodyless responses", n)
	}
}

func TestVaryOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gpc   bool
		vary  []string
		wantV []string
	}{
		{"none", true, nil, []string{"Cookie", "Sec-GPC"}},
		{"gpc off", false, nil, []string{"Cookie"}},
		{"present", true, []string{"Accept-Encoding, cookie", "sec-gpc"}, []string{"Accept-Encoding, cookie", "sec-gpc"}},
		{"partly", true, []string{"Cookie"}, []string{"Cookie", "Sec-GPC"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newTestHandler(t, func(h *Handler) { h.GPC = &tc.gpc })
			rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/html")
				w.Header()["Vary"] = tc.vary
				_, err := io.WriteString(w, "<p>hi</p>")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.Result().Header["Vary"]; strings.Join(got, "|") != strings.Join(tc.wantV, "|") {
				t.Errorf("Vary %q, want %q", got, tc.wantV)
			}
		})
	}
}

// TestNoLengthNoRanges: a filtered response keeps neither the upstream's
// Content-Length nor its Accept-Ranges; a page gathered whole goes out
// with its filtered length, as a plain proxy would send it, and one that
// is not (longer than the gathering, or announcing trailers) in chunks.
func TestNoLengthNoRanges(t *testing.T) {
	long := strings.Replace(trackedDoc, "</body>", strings.Repeat("<p>A paragraph of the page.</p>\n", 2500)+"</body>", 1)
	for _, tc := range []struct {
		name, doc string
		hdr       []string
		length    bool
	}{
		{"gathered whole", trackedDoc, nil, true},
		{"longer than the gathering", long, nil, false},
		{"trailers announced", trackedDoc, []string{"Trailer", "Server-Timing"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newTestHandler(t, nil)
			hdr := append([]string{"Content-Length", "120", "Accept-Ranges", "bytes"}, tc.hdr...)
			rec, err := serve(h, httptest.NewRequest("GET", "/", nil), htmlOrigin(tc.doc, hdr...))
			if err != nil {
				t.Fatal(err)
			}
			got := rec.Result().Header
			want := ""
			if tc.length {
				want = strconv.Itoa(rec.Body.Len())
			}
			if got.Get("Content-Length") != want || got.Get("Accept-Ranges") != "" {
				t.Errorf("Content-Length %q (want %q) and Accept-Ranges %q for %d bytes", got.Get("Content-Length"), want, got.Get("Accept-Ranges"), rec.Body.Len())
			}
			if strings.Contains(rec.Body.String(), pixelHost) {
				t.Error("not filtered")
			}
		})
	}
}

func TestETagVariants(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	req := httptest.NewRequest("GET", "/", nil)
	granted := h.consent.Granted(req.Header, consentCfg(h))
	suffix := h.etagSuffix(granted, nil)
	if !strings.HasPrefix(suffix, "-cs") {
		t.Fatalf("suffix %q", suffix)
	}

	for _, tc := range []struct{ in, want string }{
		{`"abc"`, `"abc` + suffix + `"`},
		{`W/"abc"`, `W/"abc` + suffix + `"`},
		{``, ``},
	} {
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), htmlOrigin("<p>x</p>", "ETag", tc.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Result().Header.Get("Etag"); got != tc.want {
			t.Errorf("ETag %q became %q, want %q", tc.in, got, tc.want)
		}
	}

	// Conditional requests: our suffix is stripped for upstream, another
	// variant's is not (so it cannot earn a 304 for this visitor).
	other := h.etagSuffix(granted.With(rules.Advertising), nil)
	for _, tc := range []struct{ key, in, upstream string }{
		{"If-None-Match", `"abc` + suffix + `"`, `"abc"`},
		{"If-None-Match", `W/"abc` + suffix + `", "def` + suffix + `"`, `W/"abc", "def"`},
		{"If-None-Match", `"abc` + other + `"`, `"abc` + other + `"`},
		{"If-None-Match", `*`, `*`},
		{"If-Match", `"abc` + suffix + `"`, `"abc"`},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set(tc.key, tc.in)
		var seen string
		rec, err := serve(h, req, func(w http.ResponseWriter, r *http.Request) error {
			seen = r.Header.Get(tc.key)
			w.Header().Set("ETag", `"abc"`)
			if seen == `"abc"` && tc.key == "If-None-Match" {
				w.WriteHeader(http.StatusNotModified)
				return nil
			}
			return htmlOrigin("<p>x</p>")(w, r)
		})
		if err != nil {
			t.Fatal(err)
		}
		if seen != tc.upstream {
			t.Errorf("%s %s reached upstream as %s, want %s", tc.key, tc.in, seen, tc.upstream)
		}
		if rec.Code == http.StatusNotModified {
			// RFC 9110 §15.4.5: the 304 names the variant like the 200 would.
			hdr := rec.Result().Header
			if hdr.Get("Etag") != `"abc`+suffix+`"` || !hasToken(hdr["Vary"], "Cookie") {
				t.Errorf("304 headers %v", hdr)
			}
		}
	}
}

func TestRefusesEncodedHTML(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	// Codings we do not decode, and stacked codings, of HTML: 502.
	for _, ce := range []string{"compress", "deflate", "x-compress", "gzip, br", "identity, gzip, zstd", "bogus"} {
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), htmlOrigin("\x1f\x8b\x08garbage"+trackedDoc, "Content-Encoding", ce, "ETag", `"x"`))
		var he caddyhttp.HandlerError
		if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway {
			t.Fatalf("%s: error %v, want a 502 HandlerError", ce, err)
		}
		if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
			t.Errorf("%s: encoded html leaked: %d bytes, headers %v", ce, rec.Body.Len(), rec.Header())
		}
	}
	if n := logs.FilterMessage("refusing encoded html").Len(); n != 6 {
		t.Errorf("%d refusals logged, want 6: %v", n, logs.All())
	}
	// Codings we decode, but corrupt: 502 before any byte is out.
	for _, ce := range []string{"gzip", "br", "identity, zstd"} {
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), htmlOrigin("\x1f\x8b\x08garbage"+trackedDoc, "Content-Encoding", ce, "ETag", `"x"`))
		var he caddyhttp.HandlerError
		if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway {
			t.Fatalf("%s: error %v, want a 502 HandlerError", ce, err)
		}
		if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
			t.Errorf("%s: encoded html leaked: %d bytes, headers %v", ce, rec.Body.Len(), rec.Header())
		}
	}
	if n := logs.FilterMessage("decoding upstream html").Len(); n != 3 {
		t.Errorf("%d decode failures logged, want 3: %v", n, logs.All())
	}

	// identity is no encoding; non-HTML may be encoded.
	if _, err := serve(h, httptest.NewRequest("GET", "/", nil), htmlOrigin("<p>x</p>", "Content-Encoding", "identity")); err != nil {
		t.Errorf("identity refused: %v", err)
	}
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/javascript")
		w.Header().Set("Content-Encoding", "gzip")
		_, err := io.WriteString(w, "\x1f\x8bjs")
		return err
	})
	if err != nil || rec.Body.String() != "\x1f\x8bjs" {
		t.Errorf("encoded js: %v %q", err, rec.Body.String())
	}
}

// TestPartialContent: a 206 of a page cannot be filtered. When the client
// asked for a range, the page is asked for again whole and served whole,
// with the headers the handlers before this one set; an origin that answers
// 206 to a request without a range gets a 502. A range of anything else
// passes.
func TestPartialContent(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	var asked []string // the Range of each request that reached the origin
	origin := func(ct string) func(http.ResponseWriter, *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			asked = append(asked, r.Header.Get("Range"))
			w.Header().Set("Content-Type", ct)
			w.Header().Set("X-Origin", "yes")
			if r.Header.Get("Range") == "" && ct == "text/html" {
				_, err := io.WriteString(w, trackedDoc)
				return err
			}
			w.Header().Set("Content-Range", "bytes 0-3/100")
			w.WriteHeader(http.StatusPartialContent)
			_, err := io.WriteString(w, "<scr")
			return err
		}
	}
	ranged := func() *http.Request {
		req := httptest.NewRequest("GET", "/", strings.NewReader("a body"))
		req.Header.Set("Range", "bytes=0-3")
		return req
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Frame-Options", "DENY") // a handler before us
	err := h.ServeHTTP(rec, ranged(), caddyhttp.HandlerFunc(origin("text/html")))
	body := rec.Body.String()
	if err != nil || rec.Code != http.StatusOK || strings.Contains(body, pixelHost) || !strings.Contains(body, benignHTML) {
		t.Errorf("a range of a page: %v, %d %q", err, rec.Code, body)
	}
	if !slices.Equal(asked, []string{"bytes=0-3", ""}) {
		t.Errorf("the origin was asked for %q", asked)
	}
	if rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("X-Origin") != "yes" || rec.Header().Get("Content-Range") != "" {
		t.Errorf("headers of the whole page: %v", rec.Header())
	}

	// 206 to a request without a range: the origin is broken.
	_, err = serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "multipart/byteranges; boundary=x")
		w.WriteHeader(http.StatusPartialContent)
		return nil
	})
	var he caddyhttp.HandlerError
	if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway {
		t.Errorf("206 html without a range: %v, want 502", err)
	}
	rec, err = serve(h, ranged(), origin("video/mp4"))
	if err != nil || rec.Code != http.StatusPartialContent || rec.Body.String() != "<scr" {
		t.Errorf("206 video: %v %d %q", err, rec.Code, rec.Body.String())
	}
}

func TestRequestHeaders(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	for _, tc := range []struct {
		accept    string
		keepRange bool
	}{
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false},
		{"TEXT/HTML", false},
		{"image/avif,image/webp,*/*", true},
		{"", true},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept", tc.accept)
		req.Header.Set("Accept-Encoding", "gzip, br, zstd")
		req.Header.Set("Range", "bytes=0-99")
		req.Header.Set("If-Range", `"abc"`)
		req.Header.Set("If-Modified-Since", "Sat, 28 Nov 2026 09:00:00 GMT")
		var got http.Header
		if _, err := serve(h, req, func(w http.ResponseWriter, r *http.Request) error {
			got = r.Header.Clone()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got.Get("Accept-Encoding") != "gzip, br, zstd" {
			t.Errorf("Accept-Encoding upstream: %q", got.Get("Accept-Encoding"))
		}
		if kept := got.Get("Range") != "" && got.Get("If-Range") != "" && got.Get("If-Modified-Since") != ""; kept != tc.keepRange {
			t.Errorf("Accept %q: Range kept = %v, want %v", tc.accept, kept, tc.keepRange)
		}
	}
}

func TestNextError(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	boom := caddyhttp.Error(http.StatusBadGateway, errors.New("upstream down"))
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html")
		return boom
	})
	if !errors.Is(err, boom.Err) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	// Caddy's error handling writes the response; we wrote nothing.
	if rec.Body.Len() != 0 || rec.Flushed || rec.Result().Header.Get("Vary") != "" {
		t.Errorf("wrote after next failed: %d bytes, headers %v", rec.Body.Len(), rec.Result().Header)
	}

	// An error in mid-body: what the filter still holds is dropped, not
	// decided and written after the error.
	rec, err = serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<p>ok</p><script>var held = 1;")
		return errors.New("upstream reset")
	})
	if err == nil || strings.Contains(rec.Body.String(), "held") {
		t.Errorf("after error: %v, body %q", err, rec.Body.String())
	}
	if logs.FilterMessage("filtered").Len() != 0 {
		t.Error("failed response logged as filtered")
	}
}

// readFromRecorder is a next writer with a ReadFrom (like net/http's), so
// that we can see whether io.Copy went around the filter.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	readFrom bool
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.readFrom = true
	return io.Copy(r.ResponseRecorder, src)
}

func TestReadFromMasked(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	for _, tc := range []struct {
		ct       string
		body     string
		filtered bool
	}{
		{"text/html", trackedDoc + strings.Repeat("<p>padding</p>", 100), true},
		{"text/html", trackedDoc, true}, // shorter than the sniff length
		{"application/octet-stream", strings.Repeat("x", 5000), false},
	} {
		next := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
		err := h.ServeHTTP(next, httptest.NewRequest("GET", "/", nil), caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", tc.ct)
			// Hide strings.Reader's WriteTo, or io.Copy would use it and
			// never reach our ReadFrom.
			_, err := io.Copy(w, struct{ io.Reader }{strings.NewReader(tc.body)})
			return err
		}))
		if err != nil {
			t.Fatal(err)
		}
		if tc.filtered {
			if next.readFrom {
				t.Errorf("%s: io.Copy went around the filter", tc.ct)
			}
			if strings.Contains(next.Body.String(), pixelHost) {
				t.Errorf("%s: tracker survived io.Copy", tc.ct)
			}
		} else {
			if !next.readFrom {
				t.Errorf("%s: unfiltered body lost the ReadFrom (sendfile) path", tc.ct)
			}
			if next.Body.String() != tc.body {
				t.Errorf("%s: body changed", tc.ct)
			}
		}
	}
	for _, e := range logs.FilterMessage("filtered").All() {
		if in := e.ContextMap()["bytes_in"]; in == int64(0) {
			t.Errorf("bytes_in 0 after io.Copy: %v", e.ContextMap())
		}
	}
}

func TestAbortPanic(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	// Filtered output still in the coalescing buffer has not reached the
	// client: the abort becomes a 502 and nothing of the page leaves.
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<p>partial</p><script>")
		panic(http.ErrAbortHandler) // as reverse_proxy does on client abort
	})
	var he caddyhttp.HandlerError
	if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway || rec.Body.Len() != 0 {
		t.Errorf("abort before output: %v, body %q", err, rec.Body.String())
	}
	// Past the first bytes, a page of declared length is gathered: while
	// nothing of it has reached the client's writer, the abort is a 502
	// too, and the page's length is not the 502's.
	page := strings.Repeat("<p>partial</p>", 1000)
	rec, err = serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(2*len(page)))
		_, _ = io.WriteString(w, page)
		panic(http.ErrAbortHandler)
	})
	if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "" {
		t.Errorf("abort while gathered: %v, %d bytes, Content-Length %q", err, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
	// Once bytes are out the abort goes on to the server.
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler", p)
			}
		}()
		_, _ = serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, strings.Repeat("<p>partial</p>", 1000)+"<script>")
			panic(http.ErrAbortHandler)
		})
	}()
	if logs.FilterMessage("filtered").Len() != 0 {
		t.Error("aborted response logged as filtered")
	}
	// The pooled wrapper must be usable again.
	rec, err = serve(h, httptest.NewRequest("GET", "/", nil), htmlOrigin("<p>next</p>"))
	if err != nil || rec.Body.String() != "<p>next</p>" {
		t.Errorf("after abort: %v %q", err, rec.Body.String())
	}
}

func TestEarlyHintsPassThrough(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Link", "</style.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			// Set after the 1xx: the 1xx must not have decided the headers.
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Length", "999")
			_, err := io.WriteString(w, "<p>x</p>\n")
			return err
		}))
	}))
	defer srv.Close()
	var hints []int
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
			hints = append(hints, code)
			return nil
		},
	}))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if len(hints) != 1 || hints[0] != http.StatusEarlyHints {
		t.Errorf("1xx seen: %v", hints)
	}
	// (net/http may compute a length of its own for a short body; the
	// upstream's 999 must be gone.)
	if resp.StatusCode != 200 || !hasToken(resp.Header["Vary"], "Cookie") || resp.ContentLength == 999 {
		t.Errorf("final response not decided after the 1xx: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestLogEntry(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	req := httptest.NewRequest("GET", "http://shop.example/checkout?fbclid=IwAR123&email=a%40b.example", nil)
	req.RemoteAddr = "192.0.2.77:51234"
	req.Header.Set("Cookie", "consent=analytics; session=s3cr3t")
	// Caddy's resolved client IP (trusted_proxies) wins over RemoteAddr.
	vars := map[string]any{caddyhttp.ClientIPVarKey: "2001:db8:abcd:12::99"}
	req = req.WithContext(context.WithValue(req.Context(), caddyhttp.VarsCtxKey, vars))
	if _, err := serve(h, req, htmlOrigin(trackedDoc)); err != nil {
		t.Fatal(err)
	}
	entries := logs.FilterMessage("filtered").All()
	if len(entries) != 1 {
		t.Fatalf("%d entries", len(entries))
	}
	e := entries[0]
	if e.Level != zapcore.DebugLevel {
		t.Errorf("level %v", e.Level)
	}
	m := e.ContextMap()
	want := map[string]any{
		"client_ip": "2001:db8:abcd::",
		"mode":      "strip",
		"host":      "shop.example",
		"path":      "/checkout",
		"status":    int64(200),
		"bytes_in":  int64(len(trackedDoc)),
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	for _, k := range []string{"granted", "bytes_out", "removed"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s field", k)
		}
	}
	for k, v := range m {
		s, _ := v.(string)
		if strings.Contains(s, "s3cr3t") || strings.Contains(s, "fbclid") || strings.Contains(s, "192.0.2.77") || strings.Contains(s, "::99") {
			t.Errorf("log field %s leaks %q", k, s)
		}
	}
	// Needs the rules: analytics granted, advertising (the pixel) not.
	if m["granted"] != "necessary.analytics" {
		t.Errorf("granted = %v", m["granted"])
	}
	if rm, _ := m["removed"].(map[string]any); len(rm) == 0 {
		t.Errorf("removed = %#v, want the pixel's vendor", m["removed"])
	}

	// Without Caddy's variable: RemoteAddr, truncated.
	req = httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "[::ffff:198.51.100.7]:443"
	if _, err := serve(h, req, htmlOrigin("<p>x</p>")); err != nil {
		t.Fatal(err)
	}
	last := logs.FilterMessage("filtered").All()
	if got := last[len(last)-1].ContextMap()["client_ip"]; got != "198.51.100.0" {
		t.Errorf("client_ip from RemoteAddr = %v", got)
	}
}

func TestValidate(t *testing.T) {
	for _, h := range []*Handler{
		{Mode: "remove", Cookie: "consent"},
		{Mode: "strip", Cookie: "a b"},
	} {
		ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
		if err := h.Provision(ctx); err == nil {
			if err := h.Validate(); err == nil {
				t.Errorf("%+v validated", h)
			}
		}
		cancel()
	}
}

func consentCfg(h *Handler) consent.Config {
	return consent.Config{Cookie: h.Cookie, GPC: h.gpc}
}

func hasToken(vals []string, tok string) bool {
	for _, v := range vals {
		for _, item := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(item), tok) {
				return true
			}
		}
	}
	return false
}

// TestPageCache: the same page for the same visitor state is written from
// the page cache from its third sighting on (seen, recorded, replayed),
// byte for byte as filtered; a page the origin marks no-store or private,
// or asked for with credentials, never is; a page that changes is
// filtered anew; page_cache off turns it off.
func TestPageCache(t *testing.T) {
	replayed := func(logs *observer.ObservedLogs) []bool {
		var r []bool
		for _, e := range logs.TakeAll() {
			if e.Message == "filtered" {
				r = append(r, e.ContextMap()["replayed"].(bool))
			}
		}
		return r
	}
	run := func(t *testing.T, h *Handler, url, auth string, origin func(http.ResponseWriter, *http.Request) error) string {
		t.Helper()
		req := httptest.NewRequest("GET", url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec, err := serve(h, req, origin)
		if err != nil {
			t.Fatal(err)
		}
		h.caches.pages.Wait()
		return rec.Body.String()
	}
	t.Run("resumes", func(t *testing.T) {
		// A page with a fresh token in its head: from its third sighting
		// on written from the cache but around its token. Also with what
		// the handler injects, under the origin's policy with a fresh
		// nonce: the injected elements carry no nonce, which would make
		// every response's key new.
		plain, plainLogs := newTestHandler(t, nil)
		injects, injectsLogs := newTestHandler(t, func(h *Handler) {
			h.ConsentMode = consentModeBasic
			h.Endpoint = "/consent"
			h.Banner = &Banner{PolicyURL: "/privacy"}
		})
		tmpl := strings.Replace(string(benchpage.Shop(64<<10)), "{{cart}}", "2", 1)
		for _, tt := range []struct {
			h      *Handler
			logs   *observer.ObservedLogs
			inject bool
		}{{plain, plainLogs, false}, {injects, injectsLogs, true}} {
			for i := range 4 {
				token := fmt.Sprintf("token-%d-%d", i, i*7919)
				page := strings.ReplaceAll(strings.ReplaceAll(tmpl, "{{csrf}}", token), "{{nonce}}", token)
				csp := "script-src 'nonce-" + token + "' 'strict-dynamic'; style-src 'self' 'nonce-" + token + "'"
				b := run(t, tt.h, "http://shop.example/shop", "", htmlOrigin(page, "Content-Security-Policy", csp))
				if !strings.Contains(b, token) || strings.Contains(b, "connect.facebook.net") || !strings.Contains(b, "product-card") {
					t.Fatalf("response %d:\n%s", i, b)
				}
				if injected := strings.Contains(b, "gtag('consent','default'") && strings.Contains(b, `id="ce-banner"`); injected != tt.inject {
					t.Fatalf("response %d: injected %v, want %v:\n%s", i, injected, tt.inject, b)
				}
				lines := 0
				for _, e := range tt.logs.TakeAll() {
					if e.Message != "filtered" {
						continue
					}
					lines++
					resumed, _ := e.ContextMap()["resumed"].(int64)
					if i >= 2 && resumed < int64(len(page))*9/10 || i < 2 && resumed != 0 {
						t.Errorf("injected %v, response %d: %d of %d bytes resumed", tt.inject, i, resumed, len(page))
					}
				}
				if lines != 1 {
					t.Fatalf("response %d: %d filtered lines", i, lines)
				}
			}
		}
	})
	t.Run("replays", func(t *testing.T) {
		h, logs := newTestHandler(t, nil)
		var bodies []string
		for range 4 {
			bodies = append(bodies, run(t, h, "http://shop.example/p", "", htmlOrigin(trackedDoc)))
		}
		if got, want := replayed(logs), []bool{false, false, true, true}; !slices.Equal(got, want) {
			t.Errorf("replayed %v, want %v", got, want)
		}
		for i, b := range bodies {
			if b != bodies[0] || strings.Contains(b, pixelHost) || !strings.Contains(b, benignHTML) {
				t.Errorf("response %d:\n%s\nfirst:\n%s", i, b, bodies[0])
			}
		}
		// Another query is another document; another consent another key.
		run(t, h, "http://shop.example/p?q=1", "", htmlOrigin(trackedDoc))
		if got := replayed(logs); !slices.Equal(got, []bool{false}) {
			t.Errorf("another query: replayed %v", got)
		}
		// The page changes: filtered anew, the tracker still goes.
		changed := strings.Replace(trackedDoc, "<title>t</title>", "<title>u</title>"+pixelTag, 1)
		b := run(t, h, "http://shop.example/p", "", htmlOrigin(changed))
		if got := replayed(logs); !slices.Equal(got, []bool{false}) || strings.Contains(b, pixelHost) || !strings.Contains(b, "<title>u</title>") {
			t.Errorf("changed page: replayed %v:\n%s", got, b)
		}
	})
	t.Run("invalid utf-8", func(t *testing.T) {
		// The page cache checks UTF-8 only where it filters live: a
		// page with invalid sequences reads as with the cache off,
		// every time, and a remembered page's variant with one in its
		// token too.
		h, logs := newTestHandler(t, nil)
		off, _ := newTestHandler(t, func(h *Handler) { h.PageCache = -1 })
		tmpl := strings.NewReplacer("{{cart}}", "2", "{{nonce}}", "n").Replace(string(benchpage.Shop(16 << 10)))
		page := func(token string) string { return strings.ReplaceAll(tmpl, "{{csrf}}", token) }
		for i, doc := range []string{"caf\xc3<", "caf\xc3<", "caf\xc3<", "caf\xc3<", "ok", "ok", "ok", "\xe2\x82", "\xff", "ok"} {
			b := run(t, h, "http://shop.example/p", "", htmlOrigin(page(doc)))
			rec, err := serve(off, httptest.NewRequest("GET", "http://shop.example/p", nil), htmlOrigin(page(doc)))
			if err != nil {
				t.Fatal(err)
			}
			want := rec.Body.String()
			if b != want || !utf8.ValidString(b) || strings.Contains(b, "connect.facebook.net") {
				t.Errorf("response %d, token %q:\n%q\nwith the page cache off:\n%q", i, doc, b, want)
			}
		}
		// Replayed whole: the valid page from its second sighting (the
		// invalid one was seen); around the invalid tokens, in part.
		var got []string
		for _, e := range logs.TakeAll() {
			if e.Message == "filtered" {
				resumed, _ := e.ContextMap()["resumed"].(int64)
				got = append(got, fmt.Sprint(e.ContextMap()["replayed"], resumed > 0))
			}
		}
		live, whole, around := "false false", "true false", "false true"
		if want := []string{live, live, live, live, live, whole, whole, around, around, whole}; !slices.Equal(got, want) {
			t.Errorf("replayed, resumed: %q, want %q", got, want)
		}
	})
	for _, c := range []struct {
		name, auth string
		hdr        []string
	}{
		{"no-store", "", []string{"Cache-Control", "max-age=0, No-Store"}},
		{"private", "", []string{"Cache-Control", `private="Set-Cookie"`}},
		{"credentials", "Basic YTpi", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, logs := newTestHandler(t, nil)
			for range 4 {
				run(t, h, "http://shop.example/p", c.auth, htmlOrigin(trackedDoc, c.hdr...))
			}
			if got := replayed(logs); slices.Contains(got, true) || len(got) != 4 {
				t.Errorf("replayed %v", got)
			}
		})
	}
	t.Run("aborted", func(t *testing.T) {
		// Recordings of responses that never end are given up: the page
		// is recorded and replayed once responses end again.
		h, logs := newTestHandler(t, nil)
		for range 6 {
			func() {
				defer func() { _ = recover() }()
				_, _ = serve(h, httptest.NewRequest("GET", "http://shop.example/p", nil), func(w http.ResponseWriter, r *http.Request) error {
					_ = htmlOrigin(trackedDoc)(w, r)
					panic(http.ErrAbortHandler)
				})
			}()
		}
		for range 3 {
			run(t, h, "http://shop.example/p", "", htmlOrigin(trackedDoc))
		}
		if got := replayed(logs); !slices.Equal(got, []bool{false, true, true}) {
			t.Errorf("after aborted responses: replayed %v", got)
		}
	})
	t.Run("off", func(t *testing.T) {
		h, _ := newTestHandler(t, func(h *Handler) { h.PageCache = -1 })
		if h.caches.pages != nil {
			t.Fatal("page_cache -1 made a cache")
		}
	})
}

// TestReplayable: Cache-Control is read by its directives, quoted field
// lists included (RFC 9111 §5.2).
func TestReplayable(t *testing.T) {
	for _, c := range []struct {
		cc, auth string
		want     bool
	}{
		{"", "", true},
		{"max-age=60, public", "", true},
		{"no-cache", "", true},
		{`no-cache="Set-Cookie, private, X-A"`, "", true},
		{"no-store", "", false},
		{"max-age=0, No-Store", "", false},
		{"PRIVATE", "", false},
		{`no-cache="Set-Cookie, X-A", private`, "", false},
		{`private="Set-Cookie"`, "", false},
		{"", "Bearer x", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		h := http.Header{}
		if c.cc != "" {
			h.Set("Cache-Control", c.cc)
		}
		if got := replayable(r, h); got != c.want {
			t.Errorf("Cache-Control %q, Authorization %q: replayable %v, want %v", c.cc, c.auth, got, c.want)
		}
	}
}

// TestPageKey: what the filter's output depends on makes distinct keys.
func TestPageKey(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	cases := []struct {
		url      string
		granted  rules.Set
		unseen   rules.Set
		refused  bool
		head, bd string
	}{
		{url: "http://shop.example/p"},
		{url: "https://hop.example/p"},
		{url: "https://shop.example/p"},
		{url: "http://shop.example/p?"},
		{url: "http://shop.example/p?q"},
		{url: "http://shop.example/p/"},
		{url: "http://shop.example:80/p"},
		{url: "http://shop.example/p", granted: 2},
		{url: "http://shop.example/p", unseen: 2},
		{url: "http://shop.example/p", refused: true},
		{url: "http://shop.example/p", head: "x"},
		{url: "http://shop.example/p", bd: "x"},
		{url: "http://shop.example/p", head: "x", bd: "x"},
		{url: "http://shop.example/p", head: "\x01x"},
	}
	key := func(rw *responseWriter, opt htmlfilter.Options) string {
		return string(h.caches.pages.Key(nil, rw.classifier(), opt, rw.document(-1)))
	}
	seen := map[string]int{}
	for i, c := range cases {
		resp := response{granted: c.granted, unseen: c.unseen, caches: h.caches}
		if c.refused {
			resp.vendors.Denied = rules.VendorSet{1}
		}
		rw := getResponseWriter(h, httptest.NewRecorder(), httptest.NewRequest("GET", c.url, nil), resp)
		opt := htmlfilter.Options{HeadPrelude: []byte(c.head), BodyPrelude: []byte(c.bd)}
		k, again := key(rw, opt), key(rw, opt)
		putResponseWriter(rw)
		if k != again {
			t.Errorf("case %d: key not stable", i)
		}
		if j, ok := seen[k]; ok {
			t.Errorf("cases %d and %d have one key %q", j, i, k)
		}
		seen[k] = i
	}
	// The origin's strong ETag names the document's version.
	rw := getResponseWriter(h, httptest.NewRecorder(), httptest.NewRequest("GET", "http://shop.example/p", nil), response{caches: h.caches})
	rw.etag = `"v1"`
	if j, ok := seen[key(rw, htmlfilter.Options{})]; ok {
		t.Errorf("an ETag makes no other key than case %d's", j)
	}
	putResponseWriter(rw)
}

// TestReplayFlushes: a replayed page whose origin flushes (reverse_proxy
// flushes a body of unknown length after every write) has what it decided
// written by the flush, as the live filter had, not held for a larger write.
func TestReplayFlushes(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	page := []byte(strings.NewReplacer("{{csrf}}", "t", "{{nonce}}", "n", "{{cart}}", "1").Replace(string(benchpage.Shop(256 << 10))))
	half := 3 << 15 // whole 32 KiB writes: none is short, which would write at once
	var atFlush []int
	var bodies []string
	for range 3 {
		rec := httptest.NewRecorder()
		origin := func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if err := writeChunked(w, page[:half]); err != nil {
				return err
			}
			if err := http.NewResponseController(w).Flush(); err != nil {
				return err
			}
			atFlush = append(atFlush, rec.Body.Len())
			return writeChunked(w, page[half:])
		}
		if err := h.ServeHTTP(rec, httptest.NewRequest("GET", "http://shop.example/list", nil), caddyhttp.HandlerFunc(origin)); err != nil {
			t.Fatal(err)
		}
		h.caches.pages.Wait()
		bodies = append(bodies, rec.Body.String())
	}
	if bodies[2] != bodies[0] || strings.Contains(bodies[0], "connect.facebook.net") {
		t.Fatal("the replay wrote another page than the live filter")
	}
	// Live, everything decided leaves at once; a replay writes up to its
	// last mark, at most a few KiB behind.
	if atFlush[2] < atFlush[0]-markSlack {
		t.Errorf("at the origin's flush the replay had written %d bytes, the live filter %d", atFlush[2], atFlush[0])
	}
}

// markSlack is how far behind the live filter a replay's output may be at
// a flush: its marks are at most 4 KiB of input apart.
const markSlack = 4 << 10

// TestPageCacheLength: a replayed page the origin names with a strong ETag
// goes out with its Content-Length; a page that changed under the tag is
// sent chunked when nothing of it has reached the client's writer, and
// broken off when some has.
func TestPageCacheLength(t *testing.T) {
	// Longer than the output gathered whole, which gets its length
	// however it was made.
	big := strings.Replace(trackedDoc, "</body>", strings.Repeat("<p>A paragraph of the page.</p>\n", 2500)+"</body>", 1)
	// Late in the page, a tracker of the same length as a paragraph.
	para := "<p>A paragraph of the page.</p>"
	img := `<img src=//www.facebook.com/tr>`
	img += strings.Repeat(" ", len(para)-len(img))
	i := strings.LastIndex(big, para)
	changed := big[:i] + img + big[i+len(para):]
	// inTwo writes body in two parts, as an origin streaming a page does,
	// and aborts on a write error, as reverse_proxy does.
	inTwo := func(body string, hdr ...string) func(http.ResponseWriter, *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			for i := 0; i+1 < len(hdr); i += 2 {
				w.Header().Add(hdr[i], hdr[i+1])
			}
			for _, part := range []string{body[:len(body)/2], body[len(body)/2:]} {
				if _, err := io.WriteString(w, part); err != nil {
					panic(http.ErrAbortHandler)
				}
			}
			return nil
		}
	}
	get := func(t *testing.T, h *Handler, origin func(http.ResponseWriter, *http.Request) error) (*httptest.ResponseRecorder, any) {
		t.Helper()
		var rec *httptest.ResponseRecorder
		var panicked any
		func() {
			defer func() { panicked = recover() }()
			var err error
			rec, err = serve(h, httptest.NewRequest("GET", "http://shop.example/p", nil), origin)
			if err != nil {
				t.Fatal(err)
			}
		}()
		h.caches.pages.Wait()
		return rec, panicked
	}
	strong := []string{"Etag", `"v1"`}
	t.Run("strong", func(t *testing.T) {
		h, _ := newTestHandler(t, nil)
		var first string
		for i := range 4 {
			rec, p := get(t, h, inTwo(big, strong...))
			if p != nil {
				t.Fatalf("request %d panicked: %v", i, p)
			}
			cl := rec.Header().Get("Content-Length")
			if i == 0 {
				first = rec.Body.String()
			} else if rec.Body.String() != first {
				t.Fatalf("request %d: body differs", i)
			}
			if want := i >= 2; (cl != "") != want || want && cl != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("request %d: Content-Length %q for a body of %d", i, cl, rec.Body.Len())
			}
		}
	})
	t.Run("weak", func(t *testing.T) {
		h, _ := newTestHandler(t, nil)
		for i := range 4 {
			if rec, _ := get(t, h, inTwo(big, "Etag", `W/"v1"`)); rec.Header().Get("Content-Length") != "" {
				t.Errorf("request %d: Content-Length with a weak ETag", i)
			}
		}
	})
	t.Run("changed before sending", func(t *testing.T) {
		h, _ := newTestHandler(t, nil)
		for range 3 {
			get(t, h, inTwo(big, strong...))
		}
		early := "<!-- new -->" + big[12:]
		rec, p := get(t, h, inTwo(early, strong...))
		if p != nil || rec.Header().Get("Content-Length") != "" || !strings.HasPrefix(rec.Body.String(), "<!-- new -->") || strings.Contains(rec.Body.String(), pixelHost) {
			t.Errorf("panicked %v, Content-Length %q, body %.80q", p, rec.Header().Get("Content-Length"), rec.Body.String())
		}
	})
	t.Run("changed while gathered", func(t *testing.T) {
		// The first half's output is gathered, nothing has reached the
		// client's writer: the length is taken back, the rest is live.
		h, logs := newTestHandler(t, nil)
		for range 3 {
			get(t, h, inTwo(big, strong...))
		}
		rec, p := get(t, h, inTwo(changed, strong...))
		body := rec.Body.String()
		if p != nil || rec.Header().Get("Content-Length") != "" || strings.Contains(body, "facebook.com/tr") || !strings.HasSuffix(body, "</html>") {
			t.Errorf("panicked %v, Content-Length %q, body of %d bytes ending %q", p, rec.Header().Get("Content-Length"), len(body), body[max(0, len(body)-20):])
		}
		if logs.FilterMessage("page changed under its strong etag").Len() != 0 {
			t.Error("an error logged for a length taken back")
		}
	})
	t.Run("changed after sending", func(t *testing.T) {
		// The first half's output fills the gathering and leaves with
		// the length: the transfer can only be broken off.
		huge := strings.Replace(big, "</body>", strings.Repeat("<p>A paragraph of the page.</p>\n", 2500)+"</body>", 1)
		i := strings.LastIndex(huge, para)
		changed := huge[:i] + img + huge[i+len(para):]
		h, logs := newTestHandler(t, nil)
		for range 3 {
			get(t, h, inTwo(huge, strong...))
		}
		rec, p := get(t, h, inTwo(changed, strong...))
		if p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
		if rec != nil && strings.Contains(rec.Body.String(), "facebook.com/tr") {
			t.Error("tracker sent")
		}
		if logs.FilterMessage("page changed under its strong etag").Len() != 1 {
			t.Error("no error logged")
		}
	})
}
