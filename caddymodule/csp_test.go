package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules"
)

func TestCSPBackstop(t *testing.T) {
	var counted []string
	h, _ := newTestHandler(t, func(h *Handler) {
		h.CSP = &CSP{Mode: cspEnforce, Allow: []string{"https://cdn.shop.example", "'unsafe-inline'"}, Report: "/csp-report"}
	})
	h.cspCount = func(v string) { counted = append(counted, v) }
	get := func(consent string) http.Header {
		req := httptest.NewRequest("GET", "/", nil)
		if consent != "" {
			req.Header.Set("Cookie", "consent="+consent)
		}
		rec, err := serve(h, req, htmlOrigin("<p>x</p>"))
		if err != nil {
			t.Fatal(err)
		}
		return rec.Header()
	}
	none := get("")
	csp := none.Get("Content-Security-Policy")
	for _, want := range []string{
		"default-src 'self' https://cdn.shop.example 'unsafe-inline' ",
		" js.stripe.com ", " www.google.com/recaptcha/ ", // necessary vendors: always
		"base-uri 'self'; object-src 'none'; report-uri /csp-report",
		"media-src * data: blob:; worker-src * data: blob:; manifest-src * data: blob:; ",
	} {
		if !strings.Contains(csp, want) {
			t.Errorf("no %q in %s", want, csp)
		}
	}
	for _, denied := range []string{"facebook", "google-analytics.com", "googletagmanager", "doubleclick", "hotjar", "strict-dynamic"} {
		if strings.Contains(csp, denied) {
			t.Errorf("%q allowed for a visitor without consent: %s", denied, csp)
		}
	}
	if none.Get("X-Dns-Prefetch-Control") != "off" {
		t.Error("DNS prefetch not off while everything is denied")
	}
	ads := get("advertising").Get("Content-Security-Policy")
	if !strings.Contains(ads, " connect.facebook.net *.connect.facebook.net ") || !strings.Contains(ads, " www.facebook.com/tr ") ||
		strings.Contains(ads, "hotjar") {
		t.Errorf("advertising granted: %s", ads)
	}
	// Google Ads is told from Google Analytics on gtag/js by the query, which
	// a CSP source cannot express: with only advertising granted, gtag/js is
	// not listed at all.
	if strings.Contains(ads, "googletagmanager.com/gtag/js") {
		t.Errorf("advertising granted lists gtag/js, which would let Google Analytics in: %s", ads)
	}
	// The header a visitor without consent gets must fit the 8 KiB that
	// common proxies allow a response header line.
	if len(csp) > 8<<10 {
		t.Errorf("the no-consent backstop is %d bytes", len(csp))
	}
	if strings.Contains(csp, "script-src") || strings.Contains(csp, "img-src") {
		t.Errorf("sources listed per directive: %s", csp)
	}
	// Nothing denied: nothing for the backstop to stop.
	all := get("functional.analytics.advertising")
	if all.Get("X-Dns-Prefetch-Control") != "" || all.Get("Content-Security-Policy") != "" {
		t.Errorf("all granted: %v", all)
	}

	// Report-only mode names the other header.
	ro, _ := newTestHandler(t, func(h *Handler) { h.CSP = &CSP{Mode: cspReportOnly} })
	rec, _ := serve(ro, httptest.NewRequest("GET", "/", nil), htmlOrigin("<p>x</p>"))
	if rec.Header().Get("Content-Security-Policy-Report-Only") == "" || rec.Header().Get("Content-Security-Policy") != "" {
		t.Errorf("report only: %v", rec.Header())
	}

	// Reports are counted per vendor, in both formats.
	for _, body := range []struct{ ct, body string }{
		{"application/csp-report", `{"csp-report":{"document-uri":"https://shop.example/","blocked-uri":"https://connect.facebook.net/en_US/fbevents.js","violated-directive":"script-src-elem"}}`},
		{"application/reports+json", `[{"type":"csp-violation","age":1,"url":"https://shop.example/","body":{"blockedURL":"https://www.google-analytics.com/g/collect?v=2","effectiveDirective":"connect-src"}},{"type":"deprecation","body":{}}]`},
		{"application/csp-report", `{"csp-report":{"blocked-uri":"https://cdn.unknown.example/x.js"}}`},
		{"application/csp-report", `not json`},
	} {
		req := httptest.NewRequest("POST", "/csp-report", strings.NewReader(body.body))
		req.Header.Set("Content-Type", body.ct)
		rec, err := serve(h, req, func(w http.ResponseWriter, r *http.Request) error {
			t.Error("a report reached the origin")
			return nil
		})
		if err != nil || rec.Code != http.StatusNoContent {
			t.Errorf("report: %v %d", err, rec.Code)
		}
	}
	if strings.Join(counted, ",") != "facebook,google-analytics,unknown" {
		t.Errorf("counted %v", counted)
	}
}

// TestCSPSources: a host under a listed wildcard is not listed again, nor is
// a path of a host listed whole; sources carry no scheme, so that hundreds
// of vendors fit a header.
func TestCSPSources(t *testing.T) {
	rs, err := rules.Parse("t.rules", []byte(`
vendor a {
    category functional
    host x.example
}
vendor b {
    category functional
    host cdn.x.example y.example/p/ z.example/q?id=1
}
vendor c {
    category functional
    host y.example
}
vendor d {
    category analytics
    host w.example
}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(grantedSources(rs, rules.Set(0).With(rules.Functional), nil), " ")
	if want := "x.example *.x.example y.example *.y.example"; got != want {
		t.Errorf("sources %q, want %q", got, want)
	}
}
