package caddymodule

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/rules"
)

func testContext(t *testing.T) caddy.Context {
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	return ctx
}

// recordingOrigin answers a small page and records the Cookie header and
// query it received.
type recordingOrigin struct {
	calls   int
	cookies []string
	query   string
	uri     string
}

func (o *recordingOrigin) serve(w http.ResponseWriter, r *http.Request) error {
	o.calls++
	o.cookies = r.Header["Cookie"]
	o.query = r.URL.RawQuery
	o.uri = r.RequestURI
	w.Header().Set("Content-Type", "text/html")
	_, err := w.Write([]byte("<p>ok</p>"))
	return err
}

func TestRequestCookiesStripped(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	header := "session=abc; _ga=GA1.2.111.222; _ga_XYZ=GS1.1; theme=dark; _fbp=fb.1.2.3; intercom-session-app1=s; _gcl_au=1.1.2"
	for _, tt := range []struct {
		consent string
		want    []string
	}{
		{"", []string{"session=abc; theme=dark"}},
		{"analytics", []string{"session=abc; _ga=GA1.2.111.222; _ga_XYZ=GS1.1; theme=dark; intercom-session-app1=s"}},
		{"advertising", []string{"session=abc; theme=dark; _fbp=fb.1.2.3; _gcl_au=1.1.2"}},
		{"functional.analytics.advertising", []string{header}},
	} {
		o := new(recordingOrigin)
		req := httptest.NewRequest("GET", "/", nil)
		req.Header["Cookie"] = []string{header}
		if tt.consent != "" {
			req.Header["Cookie"] = append(req.Header["Cookie"], "consent="+tt.consent)
			tt.want = append(tt.want, "consent="+tt.consent)
		}
		if _, err := serve(h, req, o.serve); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(o.cookies, tt.want) {
			t.Errorf("consent %q: origin got Cookie %q, want %q", tt.consent, o.cookies, tt.want)
		}
	}
	// A line of tracking cookies only goes entirely.
	o := new(recordingOrigin)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header["Cookie"] = []string{"_ga=1; _gid=2", "_fbp=3"}
	if _, err := serve(h, req, o.serve); err != nil {
		t.Fatal(err)
	}
	if o.cookies != nil {
		t.Errorf("origin got Cookie %q, want none", o.cookies)
	}
}

func TestClickIDsStripped(t *testing.T) {
	def, _ := newTestHandler(t, nil)
	utm, _ := newTestHandler(t, func(h *Handler) { h.ClickIDs = []string{"default", "utm_*"} })
	off, _ := newTestHandler(t, func(h *Handler) { h.ClickIDs = []string{"off"} })
	const q = "q=shoes&gclid=Cj0KCQiA&utm_source=news&page=2&fbclid=IwAR0&msclkid=abc"
	for _, tt := range []struct {
		name    string
		h       *Handler
		consent string
		want    string
	}{
		{"denied", def, "", "q=shoes&utm_source=news&page=2"},
		{"analytics only", def, "analytics", "q=shoes&utm_source=news&page=2"},
		{"advertising granted", def, "advertising", q},
		{"utm configured", utm, "", "q=shoes&page=2"},
		{"off", off, "", q},
	} {
		o := new(recordingOrigin)
		req := httptest.NewRequest("GET", "/landing?"+q, nil)
		if tt.consent != "" {
			req.Header.Set("Cookie", "consent="+tt.consent)
		}
		if _, err := serve(tt.h, req, o.serve); err != nil {
			t.Fatal(err)
		}
		if o.query != tt.want {
			t.Errorf("%s: origin got query %q, want %q", tt.name, o.query, tt.want)
		}
		wantURI := "/landing?" + tt.want
		if o.uri != wantURI {
			t.Errorf("%s: RequestURI %q, want %q", tt.name, o.uri, wantURI)
		}
	}
	// GPC denies advertising: the click ids go too.
	o := new(recordingOrigin)
	req := httptest.NewRequest("GET", "/?gclid=1", nil)
	req.Header.Set("Cookie", "consent=advertising")
	req.Header.Set("Sec-GPC", "1")
	if _, err := serve(def, req, o.serve); err != nil {
		t.Fatal(err)
	}
	if o.query != "" {
		t.Errorf("GPC: origin got query %q", o.query)
	}
}

// TestClickIDsKeepTheRest: the origin gets every other byte of the query as
// sent: pairs split at '&' only, names read as PHP and Rack read them; the
// RequestURI follows.
func TestClickIDsKeepTheRest(t *testing.T) {
	def, _ := newTestHandler(t, nil)
	for _, tt := range []struct{ target, query, uri string }{
		{"/p?a=1;gclid=x;b=2", "a=1;gclid=x;b=2", "/p?a=1;gclid=x;b=2"},
		{"/p?note=hello;gclid=1&gclid=2", "note=hello;gclid=1", "/p?note=hello;gclid=1"},
		{"/p?a=1&&gclid=x&&b", "a=1&&&b", "/p?a=1&&&b"},
		{"/p?gclid[]=x&li.fat.id=y&q=%2B", "q=%2B", "/p?q=%2B"},
		{"/p?gclid%5B%5D=x", "", "/p"},
		{"http://shop.example/p?q=1&fbclid=2", "q=1", "http://shop.example/p?q=1"},
	} {
		o := new(recordingOrigin)
		if _, err := serve(def, httptest.NewRequest("GET", tt.target, nil), o.serve); err != nil {
			t.Fatal(err)
		}
		if o.query != tt.query || o.uri != tt.uri {
			t.Errorf("%s: origin got query %q, RequestURI %q; want %q, %q", tt.target, o.query, o.uri, tt.query, tt.uri)
		}
	}
}

func TestCollectors(t *testing.T) {
	h, _ := newTestHandler(t, func(h *Handler) {
		h.Collectors = []Collector{{Path: "/g/collect", Category: "analytics"}, {Path: "/gtag/*", Category: "google-analytics"}, {Path: "/px", Category: "facebook"}}
	})
	for _, tt := range []struct {
		path, consent string
		origin        bool
	}{
		{"/g/collect", "", false},
		{"/g/collect", "analytics", true},
		{"/gtag/js", "", false},
		{"/gtag/js", "analytics", true},
		{"/px", "analytics", false},
		{"/px", "advertising", true},
		{"/g/collect/more", "", true}, // exact path only
		{"/", "", true},
	} {
		o := new(recordingOrigin)
		req := httptest.NewRequest("GET", tt.path+"?v=2&tid=G-1", nil)
		if tt.consent != "" {
			req.Header.Set("Cookie", "consent="+tt.consent)
		}
		rec, err := serve(h, req, o.serve)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.calls == 1; got != tt.origin {
			t.Errorf("%s with %q: origin reached %v, want %v", tt.path, tt.consent, got, tt.origin)
		}
		if !tt.origin && (rec.Code != http.StatusNoContent || rec.Body.Len() != 0 || rec.Header().Get("Cache-Control") != "no-store") {
			t.Errorf("%s with %q: %d %q %q", tt.path, tt.consent, rec.Code, rec.Body.String(), rec.Header().Get("Cache-Control"))
		}
	}
	// A collector naming nothing the rules know fails provisioning.
	bad := &Handler{Collectors: []Collector{{Path: "/x", Category: "analytcs"}}}
	if err := bad.Provision(testContext(t)); err == nil || !strings.Contains(err.Error(), "analytcs") {
		t.Errorf("provision: %v", err)
	}
}

// collectorRouter is an origin whose router sends pattern to its collector
// as Caddy's own path matcher does (case-insensitive, cleaned, slashes
// merged): it records whether a request got there.
type collectorRouter struct {
	match     caddyhttp.MatchPath
	collected bool
}

func (o *collectorRouter) serve(w http.ResponseWriter, r *http.Request) error {
	r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	o.collected = o.match.Match(r)
	w.Header().Set("Content-Type", "text/plain")
	_, err := w.Write([]byte("ok"))
	return err
}

// encodeLastSlash writes p's last slash as esc, or, when that slash is the
// first, adds esc after it.
func encodeLastSlash(p, esc string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i] + esc + p[i+1:]
	}
	return "/" + esc + p[1:]
}

// pathTricks are ways to write a path that routers resolve to the same
// one, in an order where each may follow the ones before it (a trailing dot
// after a trailing "/x/.." would make a new "..." segment).
var pathTricks = []func(string) string{
	strings.ToUpper,
	func(p string) string { return "/x/.." + p },
	func(p string) string { return "/x/..;" + p },
	func(p string) string { return "/a/b/../../../.." + p },
	func(p string) string { return strings.Replace(p, "/", "//", 1) },
	func(p string) string { return strings.ReplaceAll(p, "/", "/./") },
	func(p string) string { return strings.Replace(p, "/", "/%2e/", 1) },
	func(p string) string { return strings.Replace(p, "/", "/x/%2e%2e/", 1) },
	func(p string) string { return encodeLastSlash(p, "%2F") },
	func(p string) string { return encodeLastSlash(p, "%5C") },
	func(p string) string { return strings.ReplaceAll(p, "/", "/;x/") },
	func(p string) string { return strings.Replace(p, "c", "%63", 1) },
	func(p string) string { return strings.Replace(p, "k", "%E2%84%AA", 1) }, // the Kelvin sign lowers to k
	func(p string) string { return p + "." },
	func(p string) string { return p + "%20" },
	func(p string) string { return p + ";jsessionid=1" },
	func(p string) string { return p + "/" },
	func(p string) string { return p + "/." },
	func(p string) string { return p + "/x/.." },
}

// TestCollectorPathForms: a denied collector is answered for every form of
// its path that an origin's router resolves to it: cleaned, slashes merged,
// decoded, path parameters dropped, trailing dots and slashes ignored, in
// any case. Every request Caddy's path matcher would route to it is among
// them; paths that only look alike still reach the origin.
func TestCollectorPathForms(t *testing.T) {
	for _, tt := range []struct {
		pattern, base string
		extra         []string // more forms of the collector
		not           []string // paths that are not the collector
	}{
		{"/collect*", "/collect", []string{"//collect", "/./collect", "/x/../collect", "/%2Fcollect", "/Collect", "/COLLECT", "/collector", "/collect/x"},
			[]string{"/", "/colect", "/x/collect", "/%252Fcollect", "/%252e%252e/collect", "/collect/.."}},
		{"/g/collect", "/g/collect", []string{"/g/collect/", "/g/collect;x", "/g/collect.", "/g/collect./", "/G/Collect//", "/g;x/collect",
			"/g./collect", "/g\\collect", "/g%5Ccollect", "/..;/g/collect", "/g/collect%20.", "/g/;/../collect", "/g/x;/../collect"},
			[]string{"/g/collect/more", "/g/collecting", "/g/collector-docs", "/g/collect%3Fx", "/g/collect%252F", "/gg/collect", "/collect"}},
		{"/collect", "/collect", nil, []string{"/collector-docs", "/collect/x"}},
		{"/gtm/*", "/gtm/js", []string{"/gtm/", "/GTM/x", "/gtm./js", "/gtm/.", "/x/../gtm//js"}, []string{"/gtm", "/gtmx/js", "/gt/m/js"}},
		{"/track", "/track", []string{"/trac%E2%84%AA", "/TRACK/"}, []string{"/tracks"}},
	} {
		h, _ := newTestHandler(t, func(h *Handler) { h.Collectors = []Collector{{Path: tt.pattern, Category: "analytics"}} })
		router := &collectorRouter{match: caddyhttp.MatchPath{strings.ToLower(tt.pattern)}}
		try := func(target string, want bool) {
			t.Helper()
			router.collected = false
			rec, err := serve(h, httptest.NewRequest("GET", target, nil), router.serve)
			if err != nil {
				t.Fatal(err)
			}
			answered := rec.Code == http.StatusNoContent
			if router.collected {
				t.Errorf("%s: %s reached the origin's collector while analytics was denied", tt.pattern, target)
			}
			if answered != want {
				t.Errorf("%s: %s answered 204 %v, want %v", tt.pattern, target, answered, want)
			}
		}
		forms := append([]string{tt.base}, tt.extra...)
		for i, a := range pathTricks {
			forms = append(forms, a(tt.base))
			for _, b := range pathTricks[i:] {
				forms = append(forms, b(a(tt.base)))
			}
		}
		for _, target := range forms {
			try(target, true)
		}
		for _, target := range tt.not {
			try(target, false)
		}
	}
}

func TestSetCookieFiltered(t *testing.T) {
	h, logs := newTestHandler(t, func(h *Handler) {
		h.clock = func() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) }
	})
	setCookies := []string{
		"_ga=GA1.2.1234.5678; Path=/; Domain=.shop.example; Expires=Mon, 28 Nov 2030 12:00:00 GMT; SameSite=Lax",
		"_FBP=not-ours; path=/",
		"_fbp=fb.1.1700000000.123; Max-Age=31536000; Path=/; Domain=shop.example; SameSite=Lax",
		"session=abc123; Path=/; HttpOnly; Secure; SameSite=Strict",
		"_gcl_au=1.1.999.888; max-age=7776000; path=/",
		"cart=42; Max-Age=99999999",
	}
	for _, tt := range []struct {
		consent string
		want    []string
	}{
		{"", []string{setCookies[1], setCookies[3], setCookies[5]}},
		{"analytics", []string{
			"_ga=GA1.2.1234.5678; Path=/; Domain=.shop.example; Expires=Mon, 28 Nov 2030 12:00:00 GMT; SameSite=Lax; Max-Age=63072000",
			setCookies[1], setCookies[3], setCookies[5]}},
		{"advertising", []string{setCookies[1],
			"_fbp=fb.1.1700000000.123; Path=/; Domain=shop.example; SameSite=Lax; Max-Age=7776000",
			setCookies[3], setCookies[4], setCookies[5]}},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		if tt.consent != "" {
			req.Header.Set("Cookie", "consent="+tt.consent)
		}
		for _, ct := range []string{"text/html", "application/json", "image/gif"} {
			rec, err := serve(h, req, func(w http.ResponseWriter, r *http.Request) error {
				w.Header()["Set-Cookie"] = slices.Clone(setCookies)
				w.Header().Set("Content-Type", ct)
				_, err := w.Write([]byte("x"))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := rec.Header()["Set-Cookie"]; !slices.Equal(got, tt.want) {
				t.Errorf("consent %q, %s: Set-Cookie\n%q\nwant\n%q", tt.consent, ct, got, tt.want)
			}
		}
	}
	// Also when the handler writes only a status (a redirect setting a cookie).
	rec, err := serve(h, httptest.NewRequest("GET", "/", nil), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Add("Set-Cookie", "_ga=1; Max-Age=60")
		w.Header().Set("Location", "/next")
		w.WriteHeader(http.StatusFound)
		return nil
	})
	if err != nil || rec.Header()["Set-Cookie"] != nil {
		t.Errorf("redirect: %v, Set-Cookie %q", err, rec.Header()["Set-Cookie"])
	}
	if n := logs.FilterMessage("filtered").FilterField(zap.Int("set_cookies_removed", 3)).Len(); n == 0 {
		t.Error("no filtered log line counts the dropped Set-Cookie fields")
	}
}

// --- The consent endpoint ---------------------------------------------------

func endpointHandler(t *testing.T, mod func(*Handler)) *Handler {
	h, _ := newTestHandler(t, func(h *Handler) {
		h.Endpoint = "/consent"
		if mod != nil {
			mod(h)
		}
	})
	return h
}

// post sends a decision to the endpoint, as a same-origin form by default.
func post(t *testing.T, h *Handler, body, ctype string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", "https://shop.example/consent", strings.NewReader(body))
	req.TLS = &tls.ConnectionState{}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec, err := serve(h, req, func(w http.ResponseWriter, r *http.Request) error {
		t.Error("the endpoint request reached the origin")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

const form = "application/x-www-form-urlencoded"

func TestEndpointGet(t *testing.T) {
	h := endpointHandler(t, func(h *Handler) { h.PolicyVersion = "6 August 2019" })
	req := httptest.NewRequest("GET", "/consent", nil)
	req.Header.Set("Cookie", "consent=analytics."+consent.VersionMarker("6 August 2019"))
	rec, err := serve(h, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	var st endpointState
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatalf("%v: %q", err, rec.Body.String())
	}
	if !slices.Equal(st.Granted, []string{"necessary", "analytics"}) || !slices.Equal(st.Denied, []string{"functional", "advertising"}) ||
		!st.Decided || st.PolicyVersion != "6 August 2019" || len(st.Categories) != 4 {
		t.Errorf("state %+v", st)
	}
	if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", rec.Header())
	}
	// No cookie: undecided.
	rec, _ = serve(h, httptest.NewRequest("GET", "/consent", nil), nil)
	if !strings.Contains(rec.Body.String(), `"decided":false`) {
		t.Errorf("undecided: %s", rec.Body.String())
	}
}

func TestEndpointRecords(t *testing.T) {
	h, logs := newTestHandler(t, func(h *Handler) { h.Endpoint = "/consent"; h.PolicyVersion = "6 August 2019" })
	rec := post(t, h, "grant=analytics&grant=functional&redirect=%2Fshop%2Fcart%3Fx%3D1", form, map[string]string{"Referer": "https://shop.example/elsewhere"})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/shop/cart?x=1" {
		t.Fatalf("form post: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	cookies := (&http.Response{Header: rec.Header()}).Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %q", rec.Header()["Set-Cookie"])
	}
	c := cookies[0]
	wantValue := "necessary.functional.analytics." + consent.VersionMarker("6 August 2019")
	if c.Name != "__Host-consent" || c.Value != wantValue || c.Path != "/" || c.SameSite != http.SameSiteLaxMode || !c.Secure || c.HttpOnly ||
		c.MaxAge != int(defaultConsentMaxAge/time.Second) {
		t.Errorf("consent cookie %+v", c)
	}
	receipt := rec.Header().Get("Consent-Receipt")
	if len(receipt) != 16 {
		t.Errorf("receipt %q", receipt)
	}
	entries := logs.FilterMessage("consent recorded").All()
	if len(entries) != 1 {
		t.Fatalf("%d receipts logged", len(entries))
	}
	f := entries[0].ContextMap()
	if f["receipt"] != receipt || f["granted"] != "necessary.functional.analytics" || f["policy_version"] != "6 August 2019" || f["client_ip"] != "192.0.2.0" {
		t.Errorf("receipt log %v", f)
	}
	// The cookie reads back as what was granted.
	req := httptest.NewRequest("GET", "https://shop.example/consent", nil)
	req.AddCookie(c)
	got, _ := serve(h, req, nil)
	if !strings.Contains(got.Body.String(), `"granted":["necessary","functional","analytics"]`) || !strings.Contains(got.Body.String(), `"decided":true`) {
		t.Errorf("read back: %s", got.Body.String())
	}
	// Without a redirect field: back to a same-origin Referer, else "/".
	rec = post(t, h, "action=accept_all", form, map[string]string{"Referer": "https://shop.example/p/1?a=b"})
	if rec.Header().Get("Location") != "/p/1?a=b" {
		t.Errorf("referer: %q", rec.Header().Get("Location"))
	}
	rec = post(t, h, "action=reject_all&grant=analytics", form, map[string]string{"Referer": "https://evil.example/p"})
	if rec.Header().Get("Location") != "/" || !strings.Contains(rec.Header().Get("Set-Cookie"), "consent=necessary."+consent.VersionMarker("6 August 2019")+";") {
		t.Errorf("reject all: %q %q", rec.Header().Get("Location"), rec.Header().Get("Set-Cookie"))
	}
	// JSON: 200 with the new state, no redirect.
	rec = post(t, h, `{"grant":["advertising"]}`, "application/json", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"granted":["necessary","advertising"]`) ||
		!strings.Contains(rec.Body.String(), `"decided":true`) || !strings.Contains(rec.Body.String(), `"receipt":"`) {
		t.Errorf("json: %d %s", rec.Code, rec.Body.String())
	}
	// Plain http: no Secure attribute.
	req = httptest.NewRequest("POST", "http://shop.example/consent", strings.NewReader("action=accept_all"))
	req.Header.Set("Content-Type", form)
	req.Header.Set("Origin", "http://shop.example")
	rec, _ = serve(h, req, nil)
	if rec.Code != http.StatusSeeOther || strings.Contains(rec.Header().Get("Set-Cookie"), "Secure") {
		t.Errorf("http: %d %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
}

func TestEndpointRefuses(t *testing.T) {
	h := endpointHandler(t, nil)
	for _, tt := range []struct {
		name, body, ctype string
		hdr               map[string]string
		status            int
		msg               string
	}{
		{"cross-site", "action=accept_all", form, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "from the site itself"},
		{"same-site is not same-origin", "action=accept_all", form, map[string]string{"Sec-Fetch-Site": "same-site"}, 403, "from the site itself"},
		{"foreign origin", "action=accept_all", form, map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}, 403, "Origin"},
		{"null origin", "action=accept_all", form, map[string]string{"Sec-Fetch-Site": "", "Origin": "null"}, 403, "Origin"},
		{"http origin for https", "action=accept_all", form, map[string]string{"Sec-Fetch-Site": "", "Origin": "http://shop.example"}, 403, "Origin"},
		{"no evidence", "action=accept_all", form, map[string]string{"Sec-Fetch-Site": ""}, 403, "neither"},
		{"oversized", "grant=analytics&x=" + strings.Repeat("a", 5000), form, nil, 400, "at most 4096 bytes"},
		{"malformed form", "grant=%zz", form, nil, 400, "malformed consent form"},
		{"malformed json", `{"grant":"analytics"`, "application/json", nil, 400, "malformed consent decision"},
		{"json unknown field", `{"grants":["analytics"]}`, "application/json", nil, 400, "malformed consent decision"},
		{"json trailing data", `{"grant":[]} {}`, "application/json", nil, 400, "data after"},
		{"unknown category", "grant=analytcs", form, nil, 400, `unknown consent category "analytcs"`},
		{"unknown action", "action=yes", form, nil, 400, "unknown consent action"},
		{"wrong type", "action=accept_all", "text/plain", nil, 415, "a form"},
		{"open redirect //", "action=accept_all&redirect=//evil.example/", form, nil, 400, "redirect must be a path"},
		{"open redirect /\\", "action=accept_all&redirect=/%5Cevil.example/", form, nil, 400, "redirect must be a path"},
		{"open redirect absolute", "action=accept_all&redirect=https://evil.example/", form, nil, 400, "redirect must be a path"},
		{"open redirect tab", "action=accept_all&redirect=/%09/evil.example/", form, nil, 400, "redirect must be a path"},
		{"open redirect scheme-relative in json", `{"action":"accept_all","redirect":"\\/evil.example"}`, "application/json", nil, 400, "redirect must be a path"},
	} {
		rec := post(t, h, tt.body, tt.ctype, tt.hdr)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.msg) {
			t.Errorf("%s: %d %q, want %d containing %q", tt.name, rec.Code, rec.Body.String(), tt.status, tt.msg)
		}
		if rec.Header().Get("Set-Cookie") != "" || rec.Header().Get("Location") != "" {
			t.Errorf("%s: refused but set %q / redirected to %q", tt.name, rec.Header().Get("Set-Cookie"), rec.Header().Get("Location"))
		}
	}
	req := httptest.NewRequest("DELETE", "/consent", nil)
	rec, _ := serve(h, req, nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("DELETE: %d %q", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestEndpointWithdrawal(t *testing.T) {
	h := endpointHandler(t, nil)
	req := httptest.NewRequest("POST", "https://www.shop.co.uk/consent", strings.NewReader("grant=functional"))
	req.TLS = &tls.ConnectionState{}
	req.Header.Set("Content-Type", form)
	req.Header.Set("Origin", "https://www.shop.co.uk")
	req.Header.Set("Cookie", "consent=analytics.advertising; _ga=GA1.3.1.2; _ga_ABC=GS1; session=s; _fbp=fb.1; intercom-session-x=y; __Secure-x=1")
	rec, err := serve(h, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	expired := map[string][]string{} // name → domains
	for _, c := range (&http.Response{Header: rec.Header()}).Cookies() {
		if c.Name == "__Host-consent" {
			continue
		}
		if c.MaxAge >= 0 || c.Value != "" || c.Path != "/" || !c.Secure {
			t.Errorf("not an expiry: %+v", c)
		}
		expired[c.Name] = append(expired[c.Name], c.Domain)
	}
	wantDomains := []string{"", "shop.co.uk", "www.shop.co.uk"}
	// The unprefixed consent cookie goes too: over https only
	// __Host-consent is read.
	for _, name := range []string{"consent", "_ga", "_ga_ABC", "_fbp", "intercom-session-x"} {
		if !slices.Equal(expired[name], wantDomains) {
			t.Errorf("%s expired for domains %q, want %q", name, expired[name], wantDomains)
		}
	}
	if len(expired) != 5 {
		t.Errorf("expired %v: only the withdrawn tracking cookies and the unprefixed consent cookie may go", expired)
	}
	// Every Set-Cookie of an expiry also carries a past Expires.
	for _, v := range rec.Header()["Set-Cookie"] {
		if !strings.HasPrefix(v, "__Host-consent=") && !strings.Contains(v, "Expires=Thu, 01 Jan 1970") {
			t.Errorf("no past Expires: %q", v)
		}
	}
}

func TestPolicyVersionGate(t *testing.T) {
	old := consent.NewReader(rules.Default()).Format(rules.Set(0).With(rules.Analytics), "v1")
	h, _ := newTestHandler(t, func(h *Handler) { h.PolicyVersion = "v2" })
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "consent="+old+"; _ga=1")
	o := new(recordingOrigin)
	if _, err := serve(h, req, o.serve); err != nil {
		t.Fatal(err)
	}
	// Recorded under v1: grants nothing under v2, so _ga goes.
	if !slices.Equal(o.cookies, []string{"consent=" + old}) {
		t.Errorf("origin got %q", o.cookies)
	}
}

func TestSameSitePath(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"/", true}, {"/a/b?c=d#e", true}, {"/%2F%2Fevil", true},
		{"", false}, {"a", false}, {"//evil", false}, {"/\\evil", false}, {"/\tevil", false}, {"https://evil/", false},
		{"/a\\b", false}, {"/\x00", false}, {"/" + strings.Repeat("a", 3000), false}, {"javascript:alert(1)", false},
	} {
		if _, err := sameSitePath(tt.in); (err == nil) != tt.ok {
			t.Errorf("sameSitePath(%q): %v", tt.in, err)
		}
	}
}
