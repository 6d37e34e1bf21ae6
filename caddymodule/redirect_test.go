package caddymodule

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

const pixelURL = "https://www.facebook.com/tr?id=1&ev=PageView"

// redirectOrigin answers with status and Location loc and a tracking
// cookie, as a first-party tracking hop does; no body (bodies:
// TestTrackerRedirectBodies).
func redirectOrigin(status int, loc string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Location", loc)
		w.Header().Set("Set-Cookie", "_fbp=fb.1.2.3; Path=/")
		w.WriteHeader(status)
		return nil
	}
}

// TestTrackerRedirect: a redirect to a tracker of a denied category
// reaches no subresource request (answered 204 as a denied collector is,
// no field of the origin's, logged); navigations keep it; redirects
// elsewhere, and those the visitor's consent allows, pass.
func TestTrackerRedirect(t *testing.T) {
	h, logs := newTestHandler(t, nil)
	for _, tc := range []struct {
		name, dest, cookie string
		status             int
		loc                string
		answered           bool // 204 instead of the redirect
		vary               []string
	}{
		{"img", "image", "", http.StatusFound, pixelURL, true, nil},
		{"script", "script", "", http.StatusFound, pixelURL, true, nil},
		{"fetch", "empty", "", http.StatusFound, pixelURL, true, nil},
		{"fenced frame", "fencedframe", "", http.StatusFound, pixelURL, true, nil},
		{"no Sec-Fetch-Dest", "", "", http.StatusFound, pixelURL, true, nil},
		{"301", "image", "", http.StatusMovedPermanently, pixelURL, true, nil},
		{"303", "image", "", http.StatusSeeOther, pixelURL, true, nil},
		{"307", "image", "", http.StatusTemporaryRedirect, pixelURL, true, nil},
		{"308", "image", "", http.StatusPermanentRedirect, pixelURL, true, nil},
		{"scheme-relative", "image", "", http.StatusFound, "//connect.facebook.net/en_US/fbevents.js", true, nil},
		{"empty segment", "image", "", http.StatusFound, "https://www.facebook.com//tr?id=1", true, nil},
		{"first-party tag path", "script", "", http.StatusFound, "/tags/gtm.js?id=GTM-AB12", true, nil},
		{"relative to the request", "image", "", http.StatusFound, "gtm.js?id=GTM-AB12", true, nil},
		// Navigations keep the redirect; the answer depends on Sec-Fetch-Dest.
		{"document", "document", "", http.StatusFound, pixelURL, false, []string{"Sec-Fetch-Dest"}},
		{"iframe", "iframe", "", http.StatusFound, pixelURL, false, []string{"Sec-Fetch-Dest"}},
		{"frame", "frame", "", http.StatusFound, pixelURL, false, []string{"Sec-Fetch-Dest"}},
		// Granted: kept, and the answer depends on the consent.
		{"granted", "image", "consent=advertising", http.StatusFound, pixelURL, false, []string{"Cookie", "Sec-GPC"}},
		{"granted, navigation", "document", "consent=analytics.advertising", http.StatusFound, pixelURL, false, []string{"Cookie", "Sec-GPC"}},
		// Not a tracker, or not a redirect: untouched.
		{"first-party", "image", "", http.StatusFound, "/img/logo.png", false, nil},
		{"benign", "image", "", http.StatusFound, "https://cdn.example/img/logo.png", false, nil},
		{"necessary vendor", "script", "", http.StatusFound, "https://www.google.com/recaptcha/api.js", false, nil},
		{"other path on the host", "image", "", http.StatusFound, "https://www.facebook.com/transparency_report.png", false, nil},
		{"created", "image", "", http.StatusCreated, pixelURL, false, nil},
		{"multiple choices", "image", "", http.StatusMultipleChoices, pixelURL, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.TakeAll()
			req := httptest.NewRequest("GET", "https://shop.example/out/p?x=1", nil)
			if tc.dest != "" {
				req.Header.Set("Sec-Fetch-Dest", tc.dest)
			}
			if tc.cookie != "" {
				req.Header.Set("Cookie", tc.cookie)
			}
			rec, err := serve(h, req, redirectOrigin(tc.status, tc.loc))
			if err != nil {
				t.Fatal(err)
			}
			hdr := rec.Result().Header
			answered := logs.FilterMessage("redirect to a tracker answered without it").Len()
			if !tc.answered {
				if rec.Code != tc.status || hdr.Get("Location") != tc.loc || answered != 0 {
					t.Errorf("%d, Location %q, %d log lines: want %d to %q", rec.Code, hdr.Get("Location"), answered, tc.status, tc.loc)
				}
				for _, f := range tc.vary {
					if !httpguts.HeaderValuesContainsToken(hdr["Vary"], f) {
						t.Errorf("Vary %q lacks %s", hdr["Vary"], f)
					}
				}
				if tc.cookie != "" && httpguts.HeaderValuesContainsToken(hdr["Vary"], "Sec-Fetch-Dest") {
					t.Errorf("Vary %q names Sec-Fetch-Dest on a response that does not depend on it", hdr["Vary"])
				}
				if len(tc.vary) == 0 && (len(hdr["Vary"]) > 0 || len(hdr["Cache-Control"]) > 0) {
					t.Errorf("Vary %q, Cache-Control %q on an untouched response", hdr["Vary"], hdr["Cache-Control"])
				}
				if len(tc.vary) > 0 {
					if cc := hdr.Get("Cache-Control"); !strings.Contains(cc, "private") {
						t.Errorf("Cache-Control %q: a kept redirect to a tracker is one visitor's answer", cc)
					}
				}
				return
			}
			if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
				t.Errorf("%d with %d body bytes, want 204 and none", rec.Code, rec.Body.Len())
			}
			for _, k := range []string{"Location", "Set-Cookie", "Content-Type"} {
				if v := hdr.Values(k); len(v) > 0 {
					t.Errorf("%s %q reached the browser", k, v)
				}
			}
			if cc := hdr.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			if !httpguts.HeaderValuesContainsToken(hdr["Vary"], "Sec-Fetch-Dest") {
				t.Errorf("Vary %q lacks Sec-Fetch-Dest", hdr["Vary"])
			}
			if answered != 1 {
				t.Errorf("%d log lines for the answered redirect, want 1", answered)
			}
		})
	}
}

// TestTrackerRedirectBodies: however the origin writes the redirect (no
// body, no Content-Type, a streamed body, HEAD), a subresource request
// gets the 204 and nothing of the origin's body.
func TestTrackerRedirectBodies(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	for name, origin := range map[string]func(http.ResponseWriter, *http.Request) error{
		"no body": func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Location", pixelURL)
			w.WriteHeader(http.StatusFound)
			return nil
		},
		"html body": func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Location", pixelURL)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Set-Cookie", "_fbp=fb.1.2.3; Path=/")
			w.WriteHeader(http.StatusFound)
			_, err := io.WriteString(w, `<a href="`+pixelURL+`">Found</a>`)
			return err
		},
		"untyped body": func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Location", pixelURL)
			w.WriteHeader(http.StatusFound)
			_, err := io.WriteString(w, "<p>Found</p>")
			return err
		},
		"copied body": func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Location", pixelURL)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusFound)
			_, err := io.Copy(w, strings.NewReader(strings.Repeat("x", 4096)))
			return err
		},
		"flushed": func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Location", pixelURL)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusFound)
			if err := http.NewResponseController(w).Flush(); err != nil {
				return err
			}
			_, err := io.WriteString(w, "<p>Found</p>")
			return err
		},
	} {
		for _, method := range []string{"GET", "HEAD"} {
			req := httptest.NewRequest(method, "https://shop.example/out", nil)
			req.Header.Set("Sec-Fetch-Dest", "image")
			rec, err := serve(h, req, origin)
			if err != nil {
				t.Fatalf("%s %s: %v", name, method, err)
			}
			if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 || rec.Header().Get("Location") != "" {
				t.Errorf("%s %s: %d, %d body bytes, Location %q", name, method, rec.Code, rec.Body.Len(), rec.Header().Get("Location"))
			}
		}
	}
}
