package caddymodule

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/klauspost/compress/zstd"
	"go.uber.org/zap"
)

// encodeBody compresses s in coding.
func encodeBody(t testing.TB, coding, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip", "x-gzip":
		w = gzip.NewWriter(&b)
	case "br":
		w = brotli.NewWriter(&b)
	case "zstd":
		zw, err := zstd.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	default:
		t.Fatalf("coding %q", coding)
	}
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// encodedOrigin serves body with Content-Encoding ce, written in chunks of
// chunk bytes (0: one write).
func encodedOrigin(ce string, body []byte, chunk int) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", ce)
		w.Header().Set("Content-Length", "12345")
		w.WriteHeader(http.StatusOK)
		if chunk <= 0 {
			chunk = len(body)
		}
		for p := body; len(p) > 0; {
			n := min(chunk, len(p))
			if _, err := w.Write(p[:n]); err != nil {
				return err
			}
			p = p[n:]
		}
		return nil
	}
}

func TestDecodesEncodedHTML(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	for _, ce := range []string{"gzip", "x-gzip", "br", "zstd"} {
		for _, chunk := range []int{0, 1, 7} {
			for _, grant := range []string{"", "functional.analytics.advertising"} {
				req := httptest.NewRequest("GET", "/", nil)
				if grant != "" {
					req.Header.Set("Cookie", "consent="+grant)
				}
				rec, err := serve(h, req, encodedOrigin(strings.ToUpper(ce), encodeBody(t, ce, trackedDoc), chunk))
				if err != nil {
					t.Fatalf("%s/%d: %v", ce, chunk, err)
				}
				body := rec.Body.String()
				// Gathered whole, the decoded page goes out with its own length.
				if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "" || rec.Header().Get("Content-Length") != strconv.Itoa(len(body)) {
					t.Errorf("%s/%d: %d %v", ce, chunk, rec.Code, rec.Header())
				}
				if grant == "" && (strings.Contains(body, pixelHost) || !strings.Contains(body, benignHTML)) {
					t.Errorf("%s/%d: not filtered: %q", ce, chunk, body)
				}
				if grant != "" && body != trackedDoc {
					t.Errorf("%s/%d: full consent changed the page: %q", ce, chunk, body)
				}
			}
		}
	}
	if n := logs.FilterMessage("filtered").Len(); n != 24 {
		t.Errorf("%d filtered entries, want 24", n)
	}
	// An empty encoded body is a complete empty page.
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), encodedOrigin("gzip", encodeBody(t, "gzip", ""), 0))
	if err != nil || rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("empty gzip: %v %d %q", err, rec.Code, rec.Body.String())
	}
	// Concatenated gzip members are one body (RFC 1952 §2.2).
	two := append(encodeBody(t, "gzip", "<p>one</p>"), encodeBody(t, "gzip", pixelTag+"<p>two</p>")...)
	rec, err = serve(h, httptest.NewRequest("GET", "/", nil), encodedOrigin("gzip", two, 0))
	if err != nil || rec.Body.String() != "<p>one</p><p>two</p>" {
		t.Errorf("two gzip members: %v %q", err, rec.Body.String())
	}
}

func TestDecodeFailuresBeforeHeaders(t *testing.T) {
	h, logs := newTestHandler(t, func(h *Handler) { h.MaxDecoded = 1000 })
	gz := encodeBody(t, "gzip", trackedDoc)
	cases := map[string]struct {
		ce   string
		body []byte
	}{
		"truncated gzip":     {"gzip", gz[:len(gz)/2]},
		"gzip no trailer":    {"gzip", gz[:len(gz)-8]},
		"trailing garbage":   {"br", append(encodeBody(t, "br", "<p>x</p>"), "junk"...)},
		"truncated zstd":     {"zstd", encodeBody(t, "zstd", trackedDoc)[:40]},
		"over max_decoded":   {"gzip", encodeBody(t, "gzip", strings.Repeat("<p>x</p>", 200))},
		"zstd window 1 GiB":  {"zstd", zstdRawFrame(0xa0, "<p>hi</p>")},
		"zstd window 16 MiB": {"zstd", zstdRawFrame(0x70, "<p>hi</p>")},
	}
	for name, tc := range cases {
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), encodedOrigin(tc.ce, tc.body, 0))
		var he caddyhttp.HandlerError
		if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway {
			t.Errorf("%s: %v, want 502", name, err)
		}
		if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
			t.Errorf("%s: leaked %q %v", name, rec.Body.String(), rec.Header())
		}
	}
	if n := logs.FilterMessage("decoding upstream html").Len(); n != len(cases) {
		t.Errorf("%d decode errors logged, want %d", n, len(cases))
	}
	// RFC 9659: an 8 MiB window is fine.
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), encodedOrigin("zstd", zstdRawFrame(0x68, "<p>hi</p>"), 0))
	if err != nil || rec.Body.String() != "<p>hi</p>" {
		t.Errorf("zstd window 8 MiB: %v %q", err, rec.Body.String())
	}
}

// zstdRawFrame is a zstd frame (RFC 8878 §3.1.1) whose header declares the
// window descriptor wd and whose one raw block holds s.
func zstdRawFrame(wd byte, s string) []byte {
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, wd}
	bh := uint32(len(s))<<3 | 1 // last block, raw
	b = append(b, byte(bh), byte(bh>>8), byte(bh>>16))
	return append(b, s...)
}

// gzipBomb writes a gzip stream that decodes to n MiB of zeros without
// compressing them: one MiB is compressed after a MiB of zeros, and since
// the window then holds only zeros, that block decodes the same anywhere
// after it. The trailer is never reached.
func gzipBomb(t testing.TB, w io.Writer, mib int) error {
	t.Helper()
	var b bytes.Buffer
	zw, _ := flate.NewWriter(&b, flate.BestCompression)
	zero := make([]byte, 1<<20)
	zw.Write(zero)
	zw.Flush()
	first := len(b.Bytes())
	zw.Write(zero)
	zw.Flush()
	enc := b.Bytes()
	head := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	if _, err := w.Write(append(head, enc[:first]...)); err != nil {
		return err
	}
	block := enc[first:]
	for range mib - 1 {
		if _, err := w.Write(block); err != nil {
			return err
		}
	}
	return nil
}

var zeroBombs map[string][]byte

// TestBombs sends a 10 GiB gzip bomb and a zstd frame with a 1 GiB window
// through a real server: the response fails (a 502, or a broken transfer
// once bytes are out) and memory stays bounded.
func TestBombs(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html")
			switch r.URL.Path {
			case "/gzip":
				w.Header().Set("Content-Encoding", "gzip")
				return gzipBomb(t, w, 10<<10)
			case "/zstd":
				w.Header().Set("Content-Encoding", "zstd")
				_, err := w.Write(zstdRawFrame(0xa0, strings.Repeat("<p>x</p>", 1<<17)))
				return err
			case "/zstd-zeros", "/br-zeros":
				// 64 MiB of zeros; the ratio cap stops both after 1 MiB.
				ce := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "-zeros")
				w.Header().Set("Content-Encoding", ce)
				_, err := w.Write(zeroBombs[ce])
				return err
			}
			return nil
		}))
		var he caddyhttp.HandlerError
		if errors.As(err, &he) {
			w.WriteHeader(he.StatusCode)
		}
	}))
	defer srv.Close()
	zeroBombs = map[string][]byte{
		"zstd": encodeBody(t, "zstd", string(make([]byte, 64<<20))),
		"br":   encodeBody(t, "br", string(make([]byte, 64<<20))),
	}
	t.Logf("64 MiB of zeros: zstd %d bytes, br %d bytes", len(zeroBombs["zstd"]), len(zeroBombs["br"]))
	for _, path := range []string{"/gzip", "/zstd", "/zstd-zeros", "/br-zeros"} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		resp, err := srv.Client().Get(srv.URL + path)
		var n int64
		if err == nil {
			n, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d body bytes, read error %v, %.1f MiB allocated", path, n, err, float64(alloc)/(1<<20))
		if err == nil && resp.StatusCode != http.StatusBadGateway {
			t.Errorf("%s: status %d with a complete body of %d bytes", path, resp.StatusCode, n)
		}
		if alloc > 64<<20 {
			t.Errorf("%s: %d MiB allocated", path, alloc>>20)
		}
	}
	if n := logs.FilterMessage("decoding upstream html").Len(); n != 4 {
		t.Errorf("%d decode errors logged, want 4", n)
	}
}

func TestRestrictAcceptEncoding(t *testing.T) {
	for in, want := range map[string]string{
		"gzip, deflate, br, zstd":            "gzip, br, zstd",
		"gzip;q=1.0, identity; q=0.5, *;q=0": "gzip;q=1.0, identity; q=0.5",
		"deflate":                            "identity",
		"*":                                  "identity",
		",":                                  "identity",
		"":                                   "identity",
		"br":                                 "br",
		"compress, x-gzip":                   "x-gzip",
	} {
		hd := http.Header{"Accept-Encoding": {in}}
		restrictAcceptEncoding(hd)
		if got := hd.Get("Accept-Encoding"); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
	// No header: identity, so that Go's transport does not ask for gzip
	// and decode it out of reach of the caps.
	hd := http.Header{}
	restrictAcceptEncoding(hd)
	if got := hd.Get("Accept-Encoding"); got != "identity" {
		t.Errorf("no header: %q, want identity", got)
	}
}

// TestDecodedStreaming: a gzip flush upstream reaches the client decoded
// and filtered before the upstream body ends.
func TestDecodedStreaming(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			io.WriteString(zw, streamedHead+"<p>first chunk</p>"+pixelTag+"\n")
			zw.Flush()
			if err := http.NewResponseController(w).Flush(); err != nil {
				return err
			}
			<-release
			io.WriteString(zw, "<p>second chunk</p>\n")
			return zw.Close()
		}))
	}))
	defer srv.Close()
	defer close(release)
	type first struct {
		line string
		resp *http.Response
		err  error
	}
	got := make(chan first, 1)
	go func() {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("Accept-Encoding", "identity")
		resp, err := srv.Client().Do(req)
		if err != nil {
			got <- first{err: err}
			return
		}
		line, err := bufioReadLine(resp.Body)
		got <- first{line, resp, err}
	}()
	select {
	case f := <-got:
		if f.err != nil {
			t.Fatal(f.err)
		}
		defer f.resp.Body.Close()
		if f.line != streamedHead+"<p>first chunk</p>\n" {
			t.Errorf("first line %q", f.line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("decoded first chunk held back until the upstream finished")
	}
}

// bufioReadLine reads up to and including the first '\n', byte by byte
// (no read-ahead past it).
func bufioReadLine(r io.Reader) (string, error) {
	var b []byte
	var c [1]byte
	for {
		if _, err := io.ReadFull(r, c[:]); err != nil {
			return string(b), err
		}
		b = append(b, c[0])
		if c[0] == '\n' {
			return string(b), nil
		}
	}
}

// TestDecodeFailureWhileGathered: a stream found corrupt past its first
// bytes, while its output is still gathered and nothing of it has reached
// the client's writer, is answered with a 502 as one found before them.
func TestDecodeFailureWhileGathered(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	gz := encodeBody(t, "gzip", strings.Repeat("<p>benign text</p>\n", 1000))
	badCRC := append(append([]byte(nil), gz[:len(gz)-8]...), 0, 0, 0, 0, 0, 0, 0, 0)
	// In one write: its 19 KB of output are decoded, filtered and gathered
	// when the trailer says the stream was corrupt.
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), encodedOrigin("gzip", badCRC, 0))
	var he caddyhttp.HandlerError
	if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway || rec.Body.Len() != 0 || len(rec.Header()) != 0 {
		t.Errorf("%v, %d bytes, header %v", err, rec.Body.Len(), rec.Header())
	}
}

// TestDecodeFailureAfterHeaders: once decoded bytes are out, a stream that
// turns out truncated ends as a broken transfer, and no byte of the element
// it cut (an inline tracker) reaches the client.
func TestDecodeFailureAfterHeaders(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	// Longer than the output gathered whole: some of it is out when the
	// stream fails.
	page := "<!DOCTYPE html>" + strings.Repeat("<p>benign text</p>\n", 5000) + "<script>fbq('init', '1111');fbq('track', 'PageView');</script><p>end</p>"
	gz := encodeBody(t, "gzip", page)
	cut := map[string][]byte{
		"truncated":  gz[:len(gz)-40],
		"no trailer": gz[:len(gz)-8],
		"bad crc":    append(append([]byte(nil), gz[:len(gz)-8]...), 0, 0, 0, 0, 0, 0, 0, 0),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			_, err := w.Write(cut[r.URL.Query().Get("c")])
			return err
		}))
	}))
	defer srv.Close()
	for name := range cut {
		resp, err := srv.Client().Get(srv.URL + "/?c=" + strings.ReplaceAll(name, " ", "+"))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err == nil {
			t.Errorf("%s: status %d, read error %v: want a broken 200", name, resp.StatusCode, err)
		}
		if len(body) == 0 || strings.Contains(string(body), "fbq") || strings.Contains(string(body), "<script") {
			t.Errorf("%s: %d bytes, tail %q", name, len(body), body[max(0, len(body)-80):])
		}
	}
	if n := logs.FilterMessage("decoding upstream html").Len(); n != len(cut) {
		t.Errorf("%d decode errors logged, want %d", n, len(cut))
	}
}

// TestUpstreamAbortDecoded: reverse_proxy aborts (http.ErrAbortHandler)
// when the upstream body fails. Before a decoded byte is out that becomes
// a 502; after, the abort goes on to the server.
func TestUpstreamAbortDecoded(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	gz := encodeBody(t, "gzip", strings.Repeat("<p>benign</p>\n", 20000)+"<script>fbq('init');</script>")
	abortAfter := func(n int) func(http.ResponseWriter, *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			w.WriteHeader(http.StatusOK)
			if _, err := w.Write(gz[:n]); err != nil {
				return err
			}
			_ = http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler)
		}
	}
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), abortAfter(20))
	var he caddyhttp.HandlerError
	if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway || rec.Body.Len() != 0 || rec.Flushed {
		t.Errorf("abort before output: %v, %d bytes, flushed %v", err, rec.Body.Len(), rec.Flushed)
	}
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("abort after output: recovered %v", p)
			}
		}()
		rec = httptest.NewRecorder()
		_ = h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil), caddyhttp.HandlerFunc(abortAfter(len(gz)-10)))
	}()
	if rec.Body.Len() == 0 || strings.Contains(rec.Body.String(), "fbq") {
		t.Errorf("abort after output: %d bytes", rec.Body.Len())
	}
	// Other panics are not ours to turn into a 502.
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v", p)
			}
		}()
		_, _ = serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz[:20])
			panic("boom")
		})
	}()
}

// TestUpstreamAbortIdentity: the same for an identity body. The status
// waits for the first filtered bytes (earlyLen), so an upstream that fails
// before they are out gets a 502, even after a flush: an inline script cut
// short, or a few kept bytes before it. Once bytes are out, the abort goes
// on to the server and the held script never leaves.
func TestUpstreamAbortIdentity(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	abortAfter := func(body string) func(http.ResponseWriter, *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusOK)
			if _, err := io.WriteString(w, body); err != nil {
				return err
			}
			_ = http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler)
		}
	}
	for _, body := range []string{"", "<script>fbq('init'", `<img src="https://www.facebook.com/t`, "<p>ok</p><script>fbq('init'"} {
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), abortAfter(body))
		var he caddyhttp.HandlerError
		if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway || rec.Body.Len() != 0 || rec.Flushed || rec.Code != http.StatusOK {
			t.Errorf("abort after %q: %v, %d bytes, flushed %v", body, err, rec.Body.Len(), rec.Flushed)
		}
	}
	var rec *httptest.ResponseRecorder
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("abort after output: recovered %v", p)
			}
		}()
		rec = httptest.NewRecorder()
		_ = h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil), caddyhttp.HandlerFunc(abortAfter(streamedHead+"<script>fbq('init'")))
	}()
	if got := rec.Body.String(); got != streamedHead {
		t.Errorf("abort after output: body %q", got)
	}
}

func BenchmarkDecodedHTML(b *testing.B) {
	h, _ := newTestHandler(b, nil)
	h.logger = zap.NewNop()
	page := strings.Repeat(trackedDoc, 1000) // about 300 KB
	for _, ce := range []string{"identity", "gzip", "br", "zstd"} {
		body := []byte(page)
		if ce != "identity" {
			body = encodeBody(b, ce, page)
		}
		b.Run(ce, func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			origin := encodedOrigin(ce, body, 32<<10)
			if ce == "identity" {
				origin = htmlOrigin(page)
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

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d discardWriter) WriteHeader(int)             {}

// Flush makes discardWriter flush as net/http's writer does, so that the
// benchmarks take the path of a real response.
func (d discardWriter) Flush() {}
