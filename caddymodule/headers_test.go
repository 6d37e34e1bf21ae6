package caddymodule

import (
	"context"
	"io"
	"net/http/httptrace"
	"net/textproto"

	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/consentedge/consentedge/rules"
)

func TestFilterLinkValue(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	page := h.rules.NewClassifier("https://shop.example/", rules.Set(0))
	for _, tc := range []struct{ in, want string }{
		// Nothing blocked: the value is untouched, byte for byte.
		{`</app.css>; rel=preload; as=style`, `</app.css>; rel=preload; as=style`},
		{`<https://cdn.example>;rel="preconnect" , </a.js>;rel=modulepreload`, `<https://cdn.example>;rel="preconnect" , </a.js>;rel=modulepreload`},
		// Trackers of denied categories go, whatever the rel.
		{`<https://www.googletagmanager.com>; rel=preconnect`, ``},
		{`<https://connect.facebook.net/en_US/fbevents.js>; rel=preload; as=script, </app.css>; rel=preload; as=style`, `</app.css>; rel=preload; as=style`},
		{`</app.css>; rel=preload, <//www.google-analytics.com>; rel=dns-prefetch`, `</app.css>; rel=preload`},
		{`</a.js>; rel=modulepreload, <https://www.googletagmanager.com/gtm.js?id=GTM-X>; rel=prefetch, </b.js>; rel=prefetch`, `</a.js>; rel=modulepreload, </b.js>; rel=prefetch`},
		{`<https://www.facebook.com/tr?id=1>; rel=prerender`, ``},
		// A comma inside a quoted parameter does not end the link-value.
		{`<https://www.googletagmanager.com>; title="a, <b>"; rel=preconnect, </x>; rel=preload`, `</x>; rel=preload`},
		// Unparseable link-values go; the others stay.
		{`https://www.googletagmanager.com; rel=preconnect, </x>; rel=preload`, `</x>; rel=preload`},
		{`</x>; rel=preload, <https://www.googletagmanager.com; rel=preconnect`, `</x>; rel=preload`},
		{`</x>junk; rel=preload, </y>; rel=preload`, `</y>; rel=preload`},
		{`</x>; title="open, </y>; rel=preload`, ``},
		// An unparseable URL in a loading position is blocked.
		{`<http://[::1>; rel=preconnect, </y>; rel=preload`, `</y>; rel=preload`},
	} {
		got, changed := filterLinkValue(tc.in, page)
		if got != tc.want || changed != (tc.in != tc.want) {
			t.Errorf("%q:\n got %q (changed %v)\nwant %q", tc.in, got, changed, tc.want)
		}
	}
}

func TestLinkHeaders(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	tracker := `<https://connect.facebook.net>; rel=preconnect`
	benign := `</app.css>; rel=preload; as=style`
	for _, ct := range []string{"text/html", "application/json", "image/png"} {
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", ct)
			w.Header().Add("Link", tracker+", "+benign)
			w.Header().Add("Link", tracker)
			_, err := io.WriteString(w, "<p>x</p>")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Header()["Link"]; len(got) != 1 || got[0] != benign {
			t.Errorf("%s: Link %q", ct, got)
		}
	}
	// 103 through a real server: the interim response is filtered too.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Link", tracker+", "+benign)
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Link", tracker)
			w.WriteHeader(http.StatusNoContent)
			return nil
		}))
	}))
	defer srv.Close()
	var hints []string
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, hdr textproto.MIMEHeader) error {
			hints = append(hints, hdr["Link"]...)
			return nil
		},
	})
	req0, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := srv.Client().Do(req0)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(hints) != 1 || hints[0] != benign {
		t.Errorf("103 Link %q", hints)
	}
	if got := resp.Header["Link"]; len(got) != 0 {
		t.Errorf("204 Link %q", got)
	}
	// Full consent: nothing is touched.
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "consent=functional.analytics.advertising")
	rec, _ := serve(h, req, htmlOrigin("<p>x</p>", "Link", tracker+", "+benign))
	if got := rec.Header().Get("Link"); got != tracker+", "+benign {
		t.Errorf("full consent: Link %q", got)
	}
}

// TestNavigationHeaders: a Refresh to a tracker goes and one to the site
// stays; Speculation-Rules goes whenever anything is denied; full consent
// touches neither.
func TestNavigationHeaders(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	const tracker, benign, rules = "0; url=https://www.facebook.com/tr?id=1", "5;URL='/next'", `"/rules.json"`
	for _, tc := range []struct {
		cookie, refresh string
		keepRefresh     bool
		keepRules       bool
	}{
		{"", tracker, false, false},
		{"", benign, true, false},
		{"", "0; url= 'https://www.facebook.com/tr?id=1'", false, false},
		{"consent=functional.analytics.advertising", tracker, true, true},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		if tc.cookie != "" {
			req.Header.Set("Cookie", tc.cookie)
		}
		rec, err := serve(h, req, htmlOrigin("<p>x</p>", "Refresh", tc.refresh, "Speculation-Rules", rules))
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Header().Get("Refresh"); (got == tc.refresh) != tc.keepRefresh || got != "" && got != tc.refresh {
			t.Errorf("%q, cookie %q: Refresh %q", tc.refresh, tc.cookie, got)
		}
		if got := rec.Header().Get("Speculation-Rules"); (got == rules) != tc.keepRules {
			t.Errorf("cookie %q: Speculation-Rules %q", tc.cookie, got)
		}
	}
}

func TestPrivateCache(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "private"},
		{"public, max-age=600", "private, max-age=600"},
		{"max-age=60, s-maxage=3600, PUBLIC", "private, max-age=60"},
		{"no-store", "private, no-store"},
		{"private", "private"},
		{`private="Set-Cookie, X-A", max-age=5`, "private, max-age=5"},
		{`no-cache="Set-Cookie", s-maxage=10`, `private, no-cache="Set-Cookie"`},
		{"max-age=0, must-revalidate, proxy-revalidate", "private, max-age=0, must-revalidate, proxy-revalidate"},
	} {
		hd := http.Header{}
		if tc.in != "" {
			hd.Set("Cache-Control", tc.in)
		}
		privateCache(hd)
		if got := hd.Get("Cache-Control"); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCacheControlOpenQuote: a Cache-Control member whose quoted string is
// left open on a final backslash is still a member: privateCache keeps it
// for the browser and a no-store in it still keeps the page out of the
// page cache. (The directive split used to drop it.)
func TestCacheControlOpenQuote(t *testing.T) {
	if got, want := splitDirectives(`max-age=60, x="a\`), []string{"max-age=60", `x="a\`}; !slices.Equal(got, want) {
		t.Errorf("splitDirectives: %q, want %q", got, want)
	}
	hd := http.Header{"Cache-Control": {`public, max-age=60, x="a\`}}
	privateCache(hd)
	if got, want := hd.Get("Cache-Control"), `private, max-age=60, x="a\`; got != want {
		t.Errorf("privateCache: %q, want %q", got, want)
	}
	hd = http.Header{"Cache-Control": {`max-age=60, no-store="a\`}}
	if replayable(httptest.NewRequest("GET", "/", nil), hd) {
		t.Error("a page under no-store is replayable")
	}
}

func TestCacheOption(t *testing.T) {
	for _, tc := range []struct{ cache, want string }{
		{"", "private, max-age=60"},
		{"private", "private, max-age=60"},
		{"vary", "public, max-age=60, s-maxage=600"},
	} {
		h, _ := newTestHandler(t, func(h *Handler) { h.Cache = tc.cache })
		rec, err := serve(h, httptest.NewRequest("GET", "/", nil), htmlOrigin("<p>x</p>", "Cache-Control", "public, max-age=60, s-maxage=600"))
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Header().Get("Cache-Control"); got != tc.want {
			t.Errorf("cache %q: %q, want %q", tc.cache, got, tc.want)
		}
		if !hasToken(rec.Header()["Vary"], "Cookie") {
			t.Errorf("cache %q: Vary %q", tc.cache, rec.Header()["Vary"])
		}
		// Non-HTML is not ours to change.
		rec, _ = serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Cache-Control", "public, max-age=60")
			_, err := io.WriteString(w, "png")
			return err
		})
		if got := rec.Header().Get("Cache-Control"); got != "public, max-age=60" {
			t.Errorf("cache %q: image Cache-Control %q", tc.cache, got)
		}
	}
	h := &Handler{Cache: "public"}
	h.Mode, h.Cookie = modeStrip, defaultCookie
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), "cache") {
		t.Errorf("cache public validated: %v", err)
	}
}
