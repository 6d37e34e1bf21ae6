package caddymodule

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
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
		" blob:; base-uri 'self'; object-src 'none'; report-uri /csp-report",
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

// TestCSPClosesEveryFetchDirective: no fetch directive of the backstop is
// left open. Media, workers and manifests fall back to default-src like
// everything else (a denied vendor's <audio>, <video> or worker is
// refused), and no directive lists "*" or a scheme alone that reaches
// hosts (https:, http:, wss:).
func TestCSPClosesEveryFetchDirective(t *testing.T) {
	h, _ := newTestHandler(t, func(h *Handler) { h.CSP = &CSP{Mode: cspEnforce} })
	for _, granted := range []rules.Set{0, rules.Set(0).With(rules.Analytics)} {
		_, csp := h.cspHeader(granted, nil)
		for _, dir := range strings.Split(csp, ";") {
			f := strings.Fields(dir)
			if len(f) == 0 {
				continue
			}
			switch f[0] {
			case "default-src", "base-uri", "object-src", "report-uri":
			default:
				t.Errorf("directive %s: every fetch directive falls back to default-src; in %s", f[0], csp)
			}
			for _, src := range f[1:] {
				if src == "*" || src == "https:" || src == "http:" || src == "wss:" || src == "ws:" || strings.HasPrefix(src, "*") && !strings.HasPrefix(src, "*.") {
					t.Errorf("directive %s allows %s: any host", f[0], src)
				}
			}
		}
		if !strings.Contains(csp, " blob:;") {
			t.Errorf("default-src has no blob: (media source players and blob workers): %s", csp)
		}
	}
}

// TestCSPWorkerScript: a worker's policy comes from its script's response,
// so a response fetched as a worker, shared worker or service worker gets
// the backstop whatever its type; the same script fetched as a script
// (importScripts, <script>) does not, and Vary says so.
func TestCSPWorkerScript(t *testing.T) {
	h, _ := newTestHandler(t, func(h *Handler) { h.CSP = &CSP{Mode: cspEnforce} })
	js := func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/javascript")
		_, err := io.WriteString(w, "fetch('https://www.google-analytics.com/g/collect')")
		return err
	}
	get := func(dest, consent string) http.Header {
		req := httptest.NewRequest("GET", "/worker.js", nil)
		req.Header.Set("Sec-Fetch-Dest", dest)
		if consent != "" {
			req.Header.Set("Cookie", "consent="+consent)
		}
		rec, err := serve(h, req, js)
		if err != nil {
			t.Fatal(err)
		}
		return rec.Header()
	}
	_, want := h.cspHeader(0, nil)
	for _, dest := range []string{"worker", "sharedworker", "serviceworker"} {
		hdr := get(dest, "")
		if got := hdr.Get("Content-Security-Policy"); got != want {
			t.Errorf("%s script, no consent: policy %q, want %q", dest, got, want)
		}
		if vary := strings.Join(hdr["Vary"], ", "); !strings.Contains(vary, "Cookie") || !strings.Contains(vary, "Sec-Fetch-Dest") {
			t.Errorf("%s script: Vary %q", dest, vary)
		}
	}
	if got := get("script", "").Get("Content-Security-Policy"); got != "" {
		t.Errorf("the script fetched as a script got a policy: %q", got)
	}
	if got := get("worker", "functional.analytics.advertising").Get("Content-Security-Policy"); got != "" {
		t.Errorf("worker script, nothing denied: policy %q", got)
	}
}

// TestCSPAllowsInjectedElements: the banner's <style> and the Consent Mode
// <script> run under the backstop: its default-src lists the hashes of
// their texts as the page carries them, unless the operator's allow list
// has 'unsafe-inline', which a hash would switch off.
func TestCSPAllowsInjectedElements(t *testing.T) {
	type variant struct {
		allow  []string
		cookie string // "": undecided, the banner; else decided, the privacy choices control
		corner string
	}
	for _, v := range []variant{{nil, "", ""}, {[]string{"'unsafe-inline'"}, "", ""},
		{nil, "consent=functional", ""}, {nil, "consent=analytics", choicesBottomRight}} {
		allow := v.allow
		h, _ := newTestHandler(t, func(h *Handler) {
			h.CSP = &CSP{Mode: cspEnforce, Allow: allow}
			h.Endpoint = "/consent"
			h.Banner = &Banner{PolicyURL: "/privacy", ChoicesLink: v.corner}
			h.ConsentMode = consentModeBasic
		})
		req := httptest.NewRequest("GET", "/", nil)
		if v.cookie != "" {
			req.Header.Set("Cookie", v.cookie)
		}
		rec, err := serve(h, req, htmlOrigin("<html><head><title>t</title></head><body><p>x</p></body></html>",
			"Content-Security-Policy", "script-src 'nonce-r4nd0m' 'self'"))
		if err != nil {
			t.Fatal(err)
		}
		body := rec.Body.String()
		var backstop, own string
		for _, v := range rec.Header()["Content-Security-Policy"] {
			if strings.HasPrefix(v, "default-src") {
				backstop = v
			} else {
				own = v
			}
		}
		// A style attribute or event handler would need 'unsafe-hashes';
		// the injected markup has none.
		if m := regexp.MustCompile(`(?i)<[^>]*\s(style|on[a-z]+)=`).FindString(body); m != "" {
			t.Errorf("injected markup with an inline attribute: %s", m)
		}
		texts := regexp.MustCompile(`(?s)<(script|style)[^>]*>(.*?)</(?:script|style)>`).FindAllStringSubmatch(body, -1)
		if len(texts) != 2 {
			t.Fatalf("injected elements %q; want the consent mode script and the banner's or control's style", texts)
		}
		for _, m := range texts {
			sum := sha256.Sum256([]byte(m[2]))
			hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
			// The origin's policy allows the consent mode script by its
			// hash; the style, which it does not restrict, is not listed.
			if want := "script-src 'nonce-r4nd0m' 'self' " + hash; m[1] == "script" && own != want {
				t.Errorf("the origin's policy %q; want %q", own, want)
			}
			listed := strings.Contains(backstop, " "+hash)
			if allow == nil && !listed {
				t.Errorf("the backstop does not allow the injected <%s> (%s): %s", m[1], hash, backstop)
			}
			if allow != nil && (listed || strings.Contains(backstop, "'sha256-")) {
				t.Errorf("allow 'unsafe-inline': a hash would switch it off: %s", backstop)
			}
		}
	}
}

// TestCSPSourceProblem: keywords, nonces and hashes are only that in single
// quotes; unquoted, a browser reads them as host names.
func TestCSPSourceProblem(t *testing.T) {
	for _, ok := range []string{"'self'", "'unsafe-inline'", "'nonce-abc'", "'sha256-B2yP='", "https://cdn.shop.example",
		"data:", "*.shop.example", "self.example", "'wasm-unsafe-eval'"} {
		if p := cspSourceProblem(ok); p != "" {
			t.Errorf("%s refused: %s", ok, p)
		}
	}
	for src, want := range map[string]string{
		"self": "write 'self'", "unsafe-inline": "write 'unsafe-inline'", "Unsafe-Eval": "write 'Unsafe-Eval'",
		"none": "write 'none'", "report-sample": "write 'report-sample'", "wasm-unsafe-eval": "write 'wasm-unsafe-eval'",
		"unsafe-hashes": "write 'unsafe-hashes'", "nonce-abc": "write 'nonce-abc'", "sha256-B2yP=": "write 'sha256-B2yP='",
		"'self": "write 'self'", "strict-dynamic": "not a source expression", "'strict-dynamic'": "not a source expression",
		"a;b": "not a source expression", "": "not a source expression",
	} {
		if p := cspSourceProblem(src); !strings.Contains(p, want) {
			t.Errorf("%q: %q, want one containing %q", src, p, want)
		}
	}
}
