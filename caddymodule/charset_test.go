package caddymodule

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf16"
)

// TestTranscodes: a document in another encoding reaches the filter as UTF-8
// (so markup cannot hide in UTF-16) and the client gets UTF-8, labelled so.
func TestTranscodes(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	utf16le := func(s string) string {
		var b strings.Builder
		b.WriteString("\xff\xfe") // the BOM overrides the header's charset
		for _, u := range utf16.Encode([]rune(s)) {
			b.WriteByte(byte(u))
			b.WriteByte(byte(u >> 8))
		}
		return b.String()
	}
	for _, c := range []struct {
		name, ct, body string
		want           string // in the UTF-8 output
	}{
		{"utf-16 with a bom under a utf-8 header", "text/html; charset=utf-8", utf16le(trackedDoc), "<title>t</title>"},
		{"windows-1252 by meta", "text/html", "<meta charset=windows-1252><p>caf\xe9</p>" + pixelTag, "café"},
		{"latin1 by header", "text/html; charset=ISO-8859-1", "<p>\xfcber</p>" + pixelTag, "über"},
		{"utf-8 untouched", "text/html; charset=utf-8", "<p>grüß</p>" + pixelTag, "grüß"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, _ *http.Request) error {
				w.Header().Set("Content-Type", c.ct)
				_, err := io.WriteString(w, c.body)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			body := rec.Body.String()
			if strings.Contains(body, pixelHost) || strings.Contains(body, "f\x00b") {
				t.Errorf("tracker survived: %q", body)
			}
			if !strings.Contains(body, c.want) {
				t.Errorf("want %q in %q", c.want, body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, "charset=utf-8") {
				t.Errorf("Content-Type %q not relabelled", ct)
			}
		})
	}
}

// TestConsentDebugLine: malformed consent input costs the visitor nothing
// but their consent (necessary only) and leaves one debug line, without
// the cookie's value.
func TestConsentDebugLine(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "consent=analytics%zz")
	rec, err := serve(h, req, htmlOrigin(trackedDoc))
	if err != nil || rec.Code != http.StatusOK {
		t.Fatalf("%v %d", err, rec.Code)
	}
	lines := logs.FilterMessage("consent signal not taken as sent").All()
	if len(lines) != 1 {
		t.Fatalf("%d debug lines", len(lines))
	}
	for k, v := range lines[0].ContextMap() {
		if s, _ := v.(string); strings.Contains(s, "analytics%zz") {
			t.Errorf("field %s carries the cookie value", k)
		}
	}
	if strings.Contains(rec.Body.String(), pixelHost) {
		t.Error("malformed consent granted advertising")
	}
}
