package caddymodule

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// typedOrigin answers body with the Content-Type lines cts (none: no
// header) and the extra headers hdr, written in writes of the given sizes
// (the rest in one write).
func typedOrigin(cts []string, body string, hdr ...string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		for _, ct := range cts {
			w.Header().Add("Content-Type", ct)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Add(hdr[i], hdr[i+1])
		}
		_, err := io.WriteString(w, body)
		return err
	}
}

// checkFiltered asserts that the tracked document came out filtered, or
// untouched.
func checkFiltered(t *testing.T, name string, rec *httptest.ResponseRecorder, body string, filtered bool) {
	t.Helper()
	got := rec.Body.String()
	vary := hasToken(rec.Result().Header["Vary"], "Cookie")
	if filtered && (strings.Contains(got, pixelHost) || !vary) {
		t.Errorf("%s: not filtered (vary %v):\n%s", name, vary, got)
	}
	if !filtered && (got != body || vary) {
		t.Errorf("%s: filtered (vary %v):\n%s", name, vary, got)
	}
}

// TestContentTypeLastValueWins: browsers take the last parsable value of
// all Content-Type lines (Fetch, "extract a MIME type"), skipping "*/*"
// and unparsable ones; commas inside quoted strings split nothing.
func TestContentTypeLastValueWins(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	for _, tc := range []struct {
		cts      []string
		filtered bool
	}{
		{[]string{"text/plain", "text/html"}, true}, // nginx add_header beside the origin's
		{[]string{"text/plain, text/html"}, true},
		{[]string{"text/plain", "text/html, */*"}, true},
		{[]string{"text/html", "foo", "text/html ;charset=latin1"}, true},
		{[]string{"text/plain, text/html", "nonsense"}, true},
		{[]string{`text/plain;a="x,y", text/html`}, true},
		{[]string{"text/html", "application/json"}, false},
		{[]string{"text/html, text/plain"}, false},
		{[]string{`text/plain; a="x, text/html"`}, false},
	} {
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), typedOrigin(tc.cts, trackedDoc))
		if err != nil {
			t.Fatal(err)
		}
		checkFiltered(t, strings.Join(tc.cts, " | "), rec, trackedDoc, tc.filtered)
		if ct := rec.Result().Header["Content-Type"]; tc.filtered && !slices.Equal(ct, []string{"text/html; charset=utf-8"}) {
			t.Errorf("%q: filtered page sent as %q", tc.cts, ct)
		}
	}
}

// TestContentTypeSniffed: a type a browser cannot use is sniffed from the
// first bytes (MIME Sniffing §7), the resource header's 1445 bytes.
func TestContentTypeSniffed(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	spaced := strings.Repeat(" \n", 600) + trackedDoc // past net/http's 512 bytes
	for _, tc := range []struct {
		cts  []string
		body string
	}{
		{nil, spaced},
		{[]string{"foo"}, trackedDoc},
		{[]string{"text/"}, trackedDoc},
		{[]string{"unknown/unknown"}, trackedDoc},
		{[]string{"Application/Unknown"}, trackedDoc},
		{[]string{"*/*"}, trackedDoc},
		{[]string{""}, trackedDoc},
		{[]string{"text/html/x"}, "<p>x</p>" + pixelTag},
	} {
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), typedOrigin(tc.cts, tc.body))
		if err != nil {
			t.Fatal(err)
		}
		checkFiltered(t, strings.Join(tc.cts, " | "), rec, tc.body, true)
		if ct := rec.Result().Header["Content-Type"]; !slices.Equal(ct, []string{"text/html; charset=utf-8"}) {
			t.Errorf("%q: sniffed page sent as %q", tc.cts, ct)
		}
	}
	// Sniffed as something else: untouched, and labelled as before.
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), typedOrigin(nil, "plain text "+pixelTag))
	if err != nil {
		t.Fatal(err)
	}
	checkFiltered(t, "plain text", rec, "plain text "+pixelTag, false)
	if ct := rec.Result().Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("plain text labelled %q", ct)
	}
}

// TestContentTypeHoldsFirstBytes: the decision waits for the bytes that
// settle it, however the origin writes and flushes them.
func TestContentTypeHoldsFirstBytes(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	for name, origin := range map[string]func(http.ResponseWriter, *http.Request) error{
		"short first write": func(w http.ResponseWriter, r *http.Request) error {
			for _, part := range []string{"\n", " <ht", "ml>", trackedDoc} {
				if _, err := io.WriteString(w, part); err != nil {
					return err
				}
			}
			return nil
		},
		"status and flush before the body": func(w http.ResponseWriter, r *http.Request) error {
			w.WriteHeader(http.StatusOK)
			if err := http.NewResponseController(w).Flush(); err != nil {
				return err
			}
			_, err := io.WriteString(w, trackedDoc)
			return err
		},
		"unknown type, flushed": func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "unknown/unknown")
			if err := http.NewResponseController(w).Flush(); err != nil {
				return err
			}
			_, err := io.WriteString(w, trackedDoc)
			return err
		},
		"read from": func(w http.ResponseWriter, r *http.Request) error {
			_, err := io.Copy(w, strings.NewReader(strings.Repeat(" ", 1000)+trackedDoc))
			return err
		},
	} {
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), origin)
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Body.String(); strings.Contains(got, pixelHost) || !strings.Contains(got, benignHTML) {
			t.Errorf("%s: %s", name, got)
		}
	}
}

// TestContentTypeNosniff: with nosniff a browser does not sniff a document
// (MIME Sniffing §7, the sniff-scriptable flag; Chromium shows text/plain):
// the body passes, labelled so that no browser runs it as HTML.
func TestContentTypeNosniff(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	for _, tc := range []struct {
		cts     []string
		options []string
		want    string
	}{
		{nil, []string{"nosniff"}, "text/plain"},
		{[]string{"unknown/unknown"}, []string{"NoSniff, other"}, "text/plain"},
		{[]string{"*/*"}, []string{"nosniff", "x"}, "text/plain"},
	} {
		hdr := []string{}
		for _, o := range tc.options {
			hdr = append(hdr, "X-Content-Type-Options", o)
		}
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), typedOrigin(tc.cts, trackedDoc, hdr...))
		if err != nil {
			t.Fatal(err)
		}
		checkFiltered(t, "nosniff", rec, trackedDoc, false)
		if ct := rec.Result().Header["Content-Type"]; !slices.Equal(ct, []string{tc.want}) {
			t.Errorf("%q nosniff: labelled %q, want %q", tc.cts, ct, tc.want)
		}
	}
	// Not the first value: the browser sniffs.
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), typedOrigin(nil, trackedDoc, "X-Content-Type-Options", ", nosniff"))
	if err != nil {
		t.Fatal(err)
	}
	checkFiltered(t, "nosniff second", rec, trackedDoc, true)
}

// TestContentTypeNosniffASCII: nosniff matches byte-case-insensitively
// (Fetch §"determine nosniff"): "noſniff" (U+017F, which Unicode folds to
// an s) is no nosniff to a browser, which sniffs the page, so the filter
// reads it too.
func TestContentTypeNosniffASCII(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), typedOrigin(nil, trackedDoc, "X-Content-Type-Options", "no\u017fniff"))
	if err != nil {
		t.Fatal(err)
	}
	checkFiltered(t, "noſniff", rec, trackedDoc, true)
}

// An XHTML page with the pixel in a self-closing script, which read as HTML
// would take the rest of the page with it.
const xhtmlDoc = `<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title>` +
	`<script async="async" src="https://connect.facebook.net/en_US/fbevents.js"/></head>` +
	`<body><p>kept</p></body></html>`

// TestContentTypeXMLDocuments: the XML documents that run script go
// through the filter, read as XML; other XML passes untouched.
func TestContentTypeXMLDocuments(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	svg := `<svg xmlns="http://www.w3.org/2000/svg"><script href="https://connect.facebook.net/en_US/fbevents.js"/><circle r="1"/></svg>`
	feed := `<?xml version="1.0"?><rss version="2.0"><channel><description><![CDATA[` + pixelTag + `]]></description></channel></rss>`
	for _, tc := range []struct {
		ct, body string
		filtered bool
	}{
		{"application/xhtml+xml", xhtmlDoc, true},
		{"image/svg+xml", svg, true},
		{"text/xml", xhtmlDoc, true},
		{"application/xml; charset=utf-8", svg, true},
		{"", xhtmlDoc, true}, // sniffed: "<?xml"
		{"application/rss+xml", feed, false},
		{"application/xml", `<urlset><url><loc>https://connect.facebook.net/</loc></url></urlset>`, false},
	} {
		var cts []string
		if tc.ct != "" {
			cts = []string{tc.ct}
		}
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), typedOrigin(cts, tc.body))
		if err != nil {
			t.Fatal(err)
		}
		checkFiltered(t, tc.ct, rec, tc.body, tc.filtered)
		if got := rec.Body.String(); tc.filtered && !strings.HasSuffix(got, "</svg>") && !strings.HasSuffix(got, "<p>kept</p></body></html>") {
			t.Errorf("%s: content lost:\n%s", tc.ct, got)
		}
	}
}

func TestContentTypeExtract(t *testing.T) {
	for _, tc := range []struct {
		lines          []string
		essence, value string
	}{
		{nil, "", ""},
		{[]string{"Text/HTML; charset=utf-8"}, "text/html", "Text/HTML; charset=utf-8"},
		{[]string{"text/html", "*/*"}, "text/html", "text/html"},
		{[]string{"text/html, text /plain, text/ plain, /plain, text/, te(xt/plain"}, "text/html", "text/html"},
		{[]string{"text/html, text/plain \t;x"}, "text/plain", "text/plain \t;x"},
		{[]string{"\ttext/html\n"}, "text/html", "text/html\n"},
		{[]string{"text/html\u00e9"}, "", ""},
	} {
		if essence, value := extractMIMEType(tc.lines); essence != tc.essence || value != tc.value {
			t.Errorf("%q: %q %q, want %q %q", tc.lines, essence, value, tc.essence, tc.value)
		}
	}
}

func TestContentTypeSniffScriptable(t *testing.T) {
	for _, tc := range []struct {
		b    string
		more bool
		mime string
		done bool
	}{
		{"", true, "", false},
		{"", false, "", true},
		{" \t\n\f\r", true, "", false},
		{"<", true, "", false},
		{"<h", true, "", false},
		{"<html", true, "", false}, // a tag-terminating byte must follow
		{"<html", false, "", true},
		{"<html>", true, "text/html", true},
		{"<HtMl ", true, "text/html", true},
		{"<htmlx", true, "", true},
		{"<!doctype html>", true, "text/html", true},
		{"<!-- x", true, "text/html", true},
		{"<p>", true, "text/html", true},
		{"<br>", true, "text/html", true},
		{"\v<html>", true, "", true}, // not a whitespace byte
		{"<?xml", true, "text/xml", true},
		{"<?xm", true, "", false},
		{"<?XML", true, "", true},
		{"hello", true, "", true},
		{"\xef\xbb\xbf<html>", true, "", true}, // a BOM: text/plain
	} {
		mime, done := sniffScriptable([]byte(tc.b), tc.more)
		if mime != tc.mime || done != tc.done {
			t.Errorf("%q (more %v): %q %v, want %q %v", tc.b, tc.more, mime, done, tc.mime, tc.done)
		}
	}
}

func TestContentTypeXMLRoot(t *testing.T) {
	long := "<!--" + strings.Repeat("x", resourceHeaderLen) + "-->"
	for _, tc := range []struct {
		b         string
		more      bool
		yes, done bool
	}{
		{`<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">`, true, true, true},
		{`<svg:svg xmlns:svg='http://www.w3.org/2000/svg'>`, true, true, true},
		{`<feed xmlns="http://www.w3.org/2005/Atom">`, true, false, true},
		{`<root xmlns:h="http://www.w3.org/1999/xhtml">`, true, true, true},
		{`<!-- c --><?pi x?><!DOCTYPE html PUBLIC "a" "b>"><html xmlns="http://www.w3.org/1999/xhtml">`, true, true, true},
		{`<!DOCTYPE x [<!ATTLIST x xmlns CDATA #FIXED "y">]><x/>`, true, true, true},
		{`<x a="&#104;ttp://www.w3.org/1999/xhtml">`, true, true, true},
		{`<x a="1>2">`, true, false, true},
		{`<x a="1>2`, true, false, false},
		{`<x a="1>2`, false, false, true},
		{`<!DOC`, true, false, false},
		{`<?xml`, true, false, false},
		{"\xef\xbb\xbf <rss>", true, false, true},
		{`text`, true, false, true},
		{long + "<html>", true, true, true}, // the root beyond the resource header
	} {
		b := []byte(tc.b)
		more := tc.more
		if len(b) >= resourceHeaderLen {
			b, more = b[:resourceHeaderLen], false
		}
		if yes, done := xmlScriptable(b, more); yes != tc.yes || done != tc.done {
			t.Errorf("%.60q (more %v): %v %v, want %v %v", tc.b, tc.more, yes, done, tc.yes, tc.done)
		}
	}
}

// FuzzContentType: resolution and sniffing never panic; a body that starts
// with <html or <script (after whitespace) is a document whatever junk
// types precede the browser's fallback to sniffing; and the decision does not
// depend on how a header value is split into lines.
func FuzzContentType(f *testing.F) {
	f.Add("text/plain, text/html", "<p>x</p>", uint8(3), false)
	f.Add(`foo, */*; q="a,b"`, "  <script src=x>", uint8(5), true)
	f.Add("unknown/unknown", "<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", uint8(0), false)
	f.Fuzz(func(t *testing.T, ct, body string, cut uint8, nosniff bool) {
		h := http.Header{"Content-Type": {ct}}
		if nosniff {
			h.Set("X-Content-Type-Options", "nosniff")
		}
		one, ok := resolveBodyType(h, []byte(body), false)
		if !ok {
			t.Fatalf("%q %q: undecided without more bytes", ct, body)
		}
		// The same value over several lines, cut at a comma.
		if i := strings.IndexByte(ct[min(int(cut), len(ct)):], ','); i >= 0 {
			at := min(int(cut), len(ct)) + i
			h["Content-Type"] = []string{ct[:at], ct[at+1:]}
			// The value may differ where the cut falls in a quoted string.
			if two, _ := resolveBodyType(h, []byte(body), false); two.kind != one.kind || two.essence != one.essence || two.label != one.label {
				t.Errorf("%q split at %d: %+v, one line: %+v", ct, at, two, one)
			}
		}
		// Junk before a last value of text/html: HTML.
		if !strings.Contains(ct, `"`) {
			h := http.Header{"Content-Type": {ct, "text/html"}}
			if got, _ := resolveBodyType(h, []byte(body), false); got.kind != docHTML {
				t.Errorf("%q then text/html: %+v", ct, got)
			}
		}
		// Junk that leaves the browser sniffing: a document body is HTML.
		essence, _ := extractMIMEType([]string{ct})
		trimmed := strings.TrimLeft(body, "\t\n\f\r ")
		if sniffed(essence) && !nosniff && len(body) < resourceHeaderLen-8 {
			for _, tag := range []string{"<html>", "<SCRIPT "} {
				b := []byte(body[:len(body)-len(trimmed)] + tag + trimmed)
				if got, _ := resolveBodyType(http.Header{"Content-Type": {ct}}, b, false); got.kind != docHTML {
					t.Errorf("%q %q: %+v", ct, b, got)
				}
			}
		}
	})
}

// TestContentTypeSniffsDecoded: browsers sniff the decoded body. An
// encoded body whose type is to be sniffed is decoded to sniff it; one in
// a coding we cannot decode is refused, since it may be a document.
func TestContentTypeSniffsDecoded(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	for _, coding := range []string{"gzip", "br", "zstd"} {
		for _, chunk := range []int{0, 7} {
			enc := encodeBody(t, coding, strings.Repeat(" ", 700)+trackedDoc)
			rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Encoding", coding)
				for p := enc; len(p) > 0; {
					n := len(p)
					if chunk > 0 {
						n = min(chunk, n)
					}
					if _, err := w.Write(p[:n]); err != nil {
						return err
					}
					p = p[n:]
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got := rec.Body.String()
			if strings.Contains(got, pixelHost) || !strings.Contains(got, benignHTML) || rec.Header().Get("Content-Encoding") != "" {
				t.Errorf("%s (chunks of %d): %v %.80q", coding, chunk, rec.Header(), got)
			}
		}
	}
	// Encoded, untyped, and not a document: passes as it came, labelled.
	png := encodeBody(t, "gzip", "\x89PNG\r\n\x1a\n....")
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Encoding", "gzip")
		_, err := w.Write(png)
		return err
	})
	if err != nil || rec.Body.String() != string(png) || rec.Header().Get("Content-Type") != "image/png" {
		t.Errorf("encoded png: %v %v", err, rec.Header())
	}
	_, err = serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Encoding", "deflate")
		_, err := io.WriteString(w, "x\x9c...")
		return err
	})
	var he caddyhttp.HandlerError
	if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway {
		t.Errorf("untyped body in deflate: %v, want 502", err)
	}
}

// TestContentTypePartialDocument: a range of an SVG or XHTML document
// cannot be filtered either; it is asked for again whole.
func TestContentTypePartialDocument(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	svg := `<svg xmlns="http://www.w3.org/2000/svg"><script href="https://connect.facebook.net/en_US/fbevents.js"/><circle r="1"/></svg>`
	var asked []string
	rec, err := serve(h, func() *http.Request {
		req := httptest.NewRequest("GET", "/i.svg", nil)
		req.Header.Set("Range", "bytes=0-3")
		return req
	}(), func(w http.ResponseWriter, r *http.Request) error {
		asked = append(asked, r.Header.Get("Range"))
		w.Header().Set("Content-Type", "image/svg+xml")
		if r.Header.Get("Range") != "" {
			w.Header().Set("Content-Range", "bytes 0-3/100")
			w.WriteHeader(http.StatusPartialContent)
			_, err := io.WriteString(w, svg[:4])
			return err
		}
		_, err := io.WriteString(w, svg)
		return err
	})
	if err != nil || rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), pixelHost) {
		t.Errorf("a range of an svg: %v %d %q", err, rec.Code, rec.Body.String())
	}
	if !slices.Equal(asked, []string{"bytes=0-3", ""}) {
		t.Errorf("the origin was asked for %q", asked)
	}
}
