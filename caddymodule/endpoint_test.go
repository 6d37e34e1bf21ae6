package caddymodule

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/consentedge/consentedge/consent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// stdLogCounter counts the bytes written to it and keeps the first few.
type stdLogCounter struct {
	n     int
	first []byte
}

func (w *stdLogCounter) Write(p []byte) (int, error) {
	w.n += len(p)
	if len(w.first) < 200 {
		w.first = append(w.first, p[:min(len(p), 200)]...)
	}
	return len(p), nil
}

// captureStdLog sends the standard logger's output to a counter for the
// rest of the test: a client's input must never reach it.
func captureStdLog(t *testing.T) *stdLogCounter {
	w := new(stdLogCounter)
	prev := log.Writer()
	log.SetOutput(w)
	t.Cleanup(func() { log.SetOutput(prev) })
	return w
}

// responseSize is the bytes of a recorded response's header fields and body.
func responseSize(rec *httptest.ResponseRecorder) int {
	n := rec.Body.Len()
	for k, vs := range rec.Header() {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// TestEndpointWithdrawalFlood: a withdrawal whose Host has a thousand
// labels and whose Cookie names 200 tracking cookies gets a response of a
// few KB, and nothing of it reaches the standard logger.
func TestEndpointWithdrawalFlood(t *testing.T) {
	h := endpointHandler(t, nil)
	logged := captureStdLog(t)
	var cookies strings.Builder
	for i := range 200 {
		fmt.Fprintf(&cookies, "_ga_%d=GS1.1; ", i)
	}
	for _, host := range []string{
		strings.Repeat("a.", 1000) + "shop.example", // no host name: over 253 bytes
		strings.Repeat("a.", 120) + "shop.example",  // a host name 252 bytes long
		strings.Repeat("a", 64) + ".shop.example",   // a label over 63 bytes
		"shop.example:" + strings.Repeat("9", 4000), // a port of 4000 digits
		"sh\"op.example; Domain=evil.example",       // bytes no host name has
		"[2001:db8::1]:8443",                        // an IP literal
		strings.Repeat("x", 60) + "." + strings.Repeat("y", 60) + "." + strings.Repeat("z", 60) + ".co.uk",
	} {
		req := httptest.NewRequest("POST", "https://shop.example/consent", strings.NewReader("action=reject_all"))
		req.Host = host
		req.TLS = &tls.ConnectionState{}
		req.Header.Set("Content-Type", form)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Cookie", cookies.String())
		rec, err := serve(h, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Code != http.StatusSeeOther {
			t.Errorf("host %.40q: %d", host, rec.Code)
		}
		lines := rec.Header()["Set-Cookie"]
		if size := responseSize(rec); size > 8<<10 {
			t.Errorf("host %.40q: a %d-byte response with %d Set-Cookie lines", host, size, len(lines))
		}
		if len(lines) < 2 {
			t.Errorf("host %.40q: nothing expired: %q", host, lines)
		}
		for _, l := range lines {
			if _, d, ok := strings.Cut(l, "Domain="); ok && strings.ContainsAny(strings.SplitN(d, ";", 2)[0], `"[]: `) {
				t.Errorf("host %.40q: expiry with Domain=%.60q", host, d)
			}
		}
	}
	if logged.n != 0 {
		t.Errorf("%d bytes written to the standard logger: %q", logged.n, logged.first)
	}
}

// TestCookieDomains: the scopes a withdrawal expires a cookie under, most
// likely first, at most three Domain values, none for what is no host name.
func TestCookieDomains(t *testing.T) {
	for _, tt := range []struct {
		host string
		want []string
	}{
		{"shop.example", []string{"", "shop.example"}},
		{"Shop.Example.", []string{"", "shop.example"}},
		{"www.shop.co.uk", []string{"", "shop.co.uk", "www.shop.co.uk"}},
		{"a.b.shop.example:8443", []string{"", "shop.example", "a.b.shop.example", "b.shop.example"}},
		{"a.b.c.d.shop.example", []string{"", "shop.example", "a.b.c.d.shop.example", "d.shop.example"}},
		{strings.Repeat("a.", 1000) + "shop.example", []string{""}},
		{strings.Repeat("a", 64) + ".shop.example", []string{""}},
		{"-a.shop.example", []string{""}},
		{"a_b.shop.example", []string{""}},
		{"a..shop.example", []string{""}},
		{"localhost:8080", []string{""}},
		{"127.0.0.1", []string{""}},
		{"[::1]:443", []string{""}},
		{"co.uk", []string{""}},
		{"", []string{""}},
	} {
		if got := cookieDomains(tt.host); !slices.Equal(got, tt.want) {
			t.Errorf("cookieDomains(%.40q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

// TestExpiryBounds: the names a withdrawal expires are tokens of bounded
// length, each once; a __Host- cookie is expired host-only and Secure; the
// byte budget stops the lines, least likely scopes first.
func TestExpiryBounds(t *testing.T) {
	h := endpointHandler(t, nil)
	long := "_ga_" + strings.Repeat("x", 200)
	req := httptest.NewRequest("POST", "http://www.shop.example/consent", strings.NewReader("action=reject_all"))
	req.Header.Set("Content-Type", form)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Cookie", "_ga=1; _ga=2; "+long+"=1; _ga_\x01x=1; _ga_(x)=1; _ga_x y=1")
	rec, err := serve(h, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, l := range rec.Header()["Set-Cookie"] {
		if strings.HasPrefix(l, "consent=") {
			continue
		}
		name, _, _ := strings.Cut(l, "=")
		got[name] = append(got[name], l)
	}
	want := "_ga=; Path=/; Domain=shop.example; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
	if len(got) != 1 || len(got["_ga"]) != 3 || !slices.Contains(got["_ga"], want) {
		t.Errorf("expired %q, want _ga three times, one %q", got, want)
	}

	hdr := http.Header{}
	e := expirer{hdr: hdr, budget: maxExpiryBytes}
	if n := e.expire([]string{"__Host-x", "_ga"}, []string{"", "shop.example"}); n != 2 {
		t.Errorf("expire counted %d names", n)
	}
	if got := hdr["Set-Cookie"]; len(got) != 3 || got[0] != "__Host-x=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure" {
		t.Errorf("__Host- expiry: %q", got)
	}
	hdr = http.Header{}
	e = expirer{hdr: hdr, budget: 200}
	if n := e.expire([]string{"_ga", "_fbp"}, []string{"", "shop.example"}); n != 2 || len(hdr["Set-Cookie"]) != 2 || strings.Contains(hdr["Set-Cookie"][1], "Domain") {
		t.Errorf("a 200-byte budget: %d names, %q", n, hdr["Set-Cookie"])
	}
}

// TestPolicyVersionUnmarked: with policy_version set, a consent cookie
// without the version's marker grants necessary only, is no decision (the
// endpoint says undecided, the banner asks) and its grants do not reach
// the origin's cookies.
func TestPolicyVersionUnmarked(t *testing.T) {
	h, _ := newTestHandler(t, func(h *Handler) {
		h.Endpoint = "/consent"
		h.PolicyVersion = "6 August 2019"
		h.Banner = &Banner{PolicyURL: "/privacy"}
	})
	for _, tt := range []struct {
		cookie  string
		decided bool
	}{
		{"consent=necessary.analytics", false},
		{"consent=necessary.analytics." + consent.VersionMarker("1 May 2018"), false},
		{"consent=necessary.analytics." + consent.VersionMarker("6 August 2019"), true},
	} {
		o := new(recordingOrigin)
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Cookie", tt.cookie+"; _ga=GA1.2.3.4")
		rec, err := serve(h, req, o.serve)
		if err != nil {
			t.Fatal(err)
		}
		gotGA := strings.Contains(strings.Join(o.cookies, ";"), "_ga=")
		banner := strings.Contains(rec.Body.String(), "ce-banner")
		if gotGA != tt.decided || banner == tt.decided {
			t.Errorf("%s: origin got _ga %v, banner %v", tt.cookie, gotGA, banner)
		}
		req = httptest.NewRequest("GET", "/consent", nil)
		req.Header.Set("Cookie", tt.cookie)
		rec, _ = serve(h, req, nil)
		var st endpointState
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.Decided != tt.decided || slices.Contains(st.Granted, "analytics") != tt.decided {
			t.Errorf("%s: endpoint state %+v (%v)", tt.cookie, st, err)
		}
	}
}

// TestDecisionParity: a form and a JSON body that say the same thing read
// the same; one a reader could take two ways (a field twice, a field name
// in other case) is refused by both, with 400 and no cookie.
func TestDecisionParity(t *testing.T) {
	h := endpointHandler(t, nil)
	const ctJSON = "application/json"
	for _, tt := range []struct{ name, form, json string }{
		{"action twice", "action=accept_all&action=reject_all", `{"action":"accept_all","action":"reject_all"}`},
		{"action twice, escaped", "action=reject_all&%61ction=accept_all", `{"action":"reject_all","\u0061ction":"accept_all"}`},
		{"action in capitals", "Action=accept_all", `{"Action":"accept_all"}`},
		{"action beside its capitals", "action=reject_all&ACTION=accept_all", `{"action":"reject_all","ACTION":"accept_all"}`},
		{"grant in capitals", "Grant=analytics", `{"Grant":["analytics"]}`},
		{"redirect twice", "action=accept_all&redirect=/a&redirect=/b", `{"action":"accept_all","redirect":"/a","redirect":"/b"}`},
		{"redirect in capitals", "action=accept_all&Redirect=/b", `{"action":"accept_all","Redirect":"/b"}`},
	} {
		for _, c := range []struct{ body, ctype string }{{tt.form, form}, {tt.json, ctJSON}} {
			rec := post(t, h, c.body, c.ctype, nil)
			if rec.Code != http.StatusBadRequest || rec.Header().Get("Set-Cookie") != "" {
				t.Errorf("%s (%s): %d %q, Set-Cookie %q", tt.name, c.ctype, rec.Code, rec.Body.String(), rec.Header()["Set-Cookie"])
			}
		}
	}
	// A JSON grant is one array: given twice, it is refused too.
	if rec := post(t, h, `{"grant":["analytics"],"grant":["advertising"]}`, ctJSON, nil); rec.Code != http.StatusBadRequest {
		t.Errorf("grant twice in JSON: %d", rec.Code)
	}
	for _, tt := range []struct{ name, form, json, value string }{
		{"accept all", "action=accept_all", `{"action":"accept_all"}`, "necessary.functional.analytics.advertising"},
		{"grants", "grant=analytics&grant=advertising", `{"grant":["analytics","advertising"]}`, "necessary.analytics.advertising"},
		{"save with grants", "action=save&grant=Functional", `{"action":"save","grant":["Functional"]}`, "necessary.functional"},
		{"reject all", "action=reject_all&grant=analytics", `{"grant":["analytics"],"action":"reject_all"}`, "necessary"},
	} {
		for _, c := range []struct{ body, ctype string }{{tt.form, form}, {tt.json, ctJSON}} {
			rec := post(t, h, c.body, c.ctype, nil)
			cookies := (&http.Response{Header: rec.Header()}).Cookies()
			if rec.Code >= 400 || len(cookies) == 0 || cookies[0].Value != tt.value {
				t.Errorf("%s (%s): %d %q, cookies %q, want value %q", tt.name, c.ctype, rec.Code, rec.Body.String(), rec.Header()["Set-Cookie"], tt.value)
			}
		}
	}
}

// TestReadJSONDecision: the JSON reader's refusals name what is wrong.
func TestReadJSONDecision(t *testing.T) {
	for _, tt := range []struct{ in, err string }{
		{`[]`, "want a JSON object"},
		{`{"action":1}`, `field "action" must be a string`},
		{`{"action":null}`, `field "action" must be a string`},
		{`{"grant":"analytics"}`, `field "grant" must be an array of strings`},
		{`{"grant":[["analytics"]]}`, `field "grant" must be an array of strings`},
		{`{"grant":[1]}`, `field "grant" must be an array of strings`},
		{`{"grants":[]}`, `unknown field "grants"`},
		{`{"action":"save"} {}`, "data after the JSON object"},
		{`{"action":"save"}x`, "data after the JSON object"},
		{`{"action":"save"`, "EOF"},
	} {
		_, err := readJSONDecision([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: %v, want %q", tt.in, err, tt.err)
		}
	}
	d, err := readJSONDecision([]byte(" {\"grant\":[\"a\",\"b\"],\"redirect\":\"/x\",\"action\":\"\"}\n"))
	if err != nil || !slices.Equal(d.Grant, []string{"a", "b"}) || d.Redirect != "/x" || d.Action != "" {
		t.Errorf("read %+v, %v", d, err)
	}
}

// viaProxy is r as Caddy prepares it when it came from a proxy, trusted
// (in the server's trusted_proxies) or not, that says X-Forwarded-Proto:
// proto.
func viaProxy(r *http.Request, trusted bool, proto string) *http.Request {
	r.Header.Set("X-Forwarded-Proto", proto)
	ctx := context.WithValue(r.Context(), caddyhttp.VarsCtxKey, map[string]any{caddyhttp.TrustedProxyVarKey: trusted})
	return r.WithContext(ctx)
}

// TestCookieSecure: the consent cookie is Secure, and the endpoint expects
// an https Origin, when the request came over TLS or a trusted proxy says
// it did (X-Forwarded-Proto: https); never on an untrusted proxy's word;
// always with cookie_secure on, never with off.
func TestCookieSecure(t *testing.T) {
	for _, tt := range []struct {
		name    string
		secure  string // cookie_secure
		tls     bool
		proxy   string // "trusted", "untrusted" or ""
		proto   string
		wantSec bool
	}{
		{"plain http", "", false, "", "", false},
		{"tls", "", true, "", "", true},
		{"trusted proxy, https", "", false, "trusted", "https", true},
		{"trusted proxy, HTTPS, chain", "", false, "trusted", "HTTPS, http", true},
		{"trusted proxy, http", "", false, "trusted", "http", false},
		{"untrusted proxy, https", "", false, "untrusted", "https", false},
		{"on, plain http", "on", false, "", "", true},
		{"off, tls", "off", true, "", "", false},
	} {
		h := endpointHandler(t, func(h *Handler) { h.CookieSecure = tt.secure })
		scheme := "http"
		if tt.wantSec || tt.secure == "off" && tt.tls {
			scheme = "https"
		}
		req := httptest.NewRequest("POST", "http://shop.example/consent", strings.NewReader("action=accept_all"))
		if tt.tls {
			req.TLS = &tls.ConnectionState{}
		}
		if tt.proxy != "" {
			req = viaProxy(req, tt.proxy == "trusted", tt.proto)
		}
		req.Header.Set("Content-Type", form)
		req.Header.Set("Origin", scheme+"://shop.example")
		rec, err := serve(h, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		cookies := (&http.Response{Header: rec.Header()}).Cookies()
		if rec.Code != http.StatusSeeOther || len(cookies) != 1 || cookies[0].Secure != tt.wantSec {
			t.Errorf("%s: %d %q, Set-Cookie %q, want Secure %v", tt.name, rec.Code, rec.Body.String(), rec.Header()["Set-Cookie"], tt.wantSec)
		}
		// The other scheme's Origin is not the site's.
		other := map[string]string{"http": "https", "https": "http"}[scheme]
		req2 := httptest.NewRequest("POST", "http://shop.example/consent", strings.NewReader("action=accept_all"))
		req2.TLS = req.TLS
		req2 = req2.WithContext(req.Context())
		req2.Header = req.Header.Clone()
		req2.Header.Set("Origin", other+"://shop.example")
		if rec, _ := serve(h, req2, nil); rec.Code != http.StatusForbidden {
			t.Errorf("%s: Origin %s://shop.example: %d, want 403", tt.name, other, rec.Code)
		}
	}
}

// TestHostPrefix: with the endpoint, over https the consent cookie is
// __Host-consent (Secure, Path=/, no Domain) and only that name is read:
// an unprefixed cookie, which a sibling subdomain could have planted,
// grants nothing and is no decision, and a new decision expires it. Over
// plain http, with cookie_host_prefix off, or without the endpoint, the
// bare name is written and read.
func TestHostPrefix(t *testing.T) {
	h := endpointHandler(t, func(h *Handler) { h.Banner = &Banner{PolicyURL: "/privacy"} })
	state := func(h *Handler, url, cookie string) endpointState {
		t.Helper()
		req := httptest.NewRequest("GET", url, nil)
		req.Header.Set("Cookie", cookie)
		rec, _ := serve(h, req, nil)
		var st endpointState
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
			t.Fatalf("%v: %s", err, rec.Body.String())
		}
		return st
	}
	for _, tt := range []struct {
		url, cookie string
		decided     bool
		granted     []string
	}{
		{"https://shop.example/consent", "__Host-consent=necessary.analytics", true, []string{"necessary", "analytics"}},
		{"https://shop.example/consent", "consent=necessary.analytics", false, []string{"necessary"}},
		{"https://shop.example/consent", "__host-consent=necessary.analytics", false, []string{"necessary"}},
		{"https://shop.example/consent", "__Host-consent=necessary; consent=necessary.analytics", true, []string{"necessary"}},
		{"http://shop.example/consent", "consent=necessary.analytics", true, []string{"necessary", "analytics"}},
		{"http://shop.example/consent", "__Host-consent=necessary.analytics", false, []string{"necessary"}},
	} {
		if st := state(h, tt.url, tt.cookie); st.Decided != tt.decided || !slices.Equal(st.Granted, tt.granted) {
			t.Errorf("%s with %q: decided %v, granted %q", tt.url, tt.cookie, st.Decided, st.Granted)
		}
	}
	// A planted unprefixed grant: the banner still asks, the origin gets
	// no analytics cookie.
	o := new(recordingOrigin)
	req := httptest.NewRequest("GET", "https://shop.example/", nil)
	req.Header.Set("Cookie", "consent=necessary.analytics; _ga=GA1.2.3.4")
	rec, _ := serve(h, req, o.serve)
	if !strings.Contains(rec.Body.String(), "ce-banner") || strings.Contains(strings.Join(o.cookies, ";"), "_ga=") {
		t.Errorf("planted grant: banner %v, origin got %q", strings.Contains(rec.Body.String(), "ce-banner"), o.cookies)
	}

	// Recording over https: the prefixed cookie, and the bare one expired
	// host-only and under the parent domains a sibling could have used.
	rec = post(t, h, "action=accept_all", form, map[string]string{"Cookie": "consent=necessary"})
	lines := rec.Header()["Set-Cookie"]
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "__Host-consent=necessary.functional.analytics.advertising; Path=/;") ||
		!strings.Contains(lines[0], "; Secure") || strings.Contains(lines[0], "Domain") {
		t.Errorf("prefixed cookie: %q", lines)
	}
	want := []string{
		"consent=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure",
		"consent=; Path=/; Domain=shop.example; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure",
	}
	if len(lines) != 3 || !slices.Equal(lines[1:], want) {
		t.Errorf("the bare cookie's expiry: %q, want %q", lines[1:], want)
	}
	// Without a bare cookie, nothing to expire.
	if rec := post(t, h, "action=accept_all", form, nil); len(rec.Header()["Set-Cookie"]) != 1 {
		t.Errorf("no bare cookie: %q", rec.Header()["Set-Cookie"])
	}

	off := false
	for name, h := range map[string]*Handler{
		"cookie_host_prefix off": endpointHandler(t, func(h *Handler) { h.CookieHostPrefix = &off }),
		"no endpoint":            func() *Handler { h, _ := newTestHandler(t, nil); return h }(),
	} {
		req := httptest.NewRequest("GET", "https://shop.example/", nil)
		req.Header.Set("Cookie", "consent=necessary.analytics; _ga=GA1.2.3.4")
		o := new(recordingOrigin)
		if _, err := serve(h, req, o.serve); err != nil || !strings.Contains(strings.Join(o.cookies, ";"), "_ga=") {
			t.Errorf("%s: the bare cookie is not read: origin got %q (%v)", name, o.cookies, err)
		}
	}
	h = endpointHandler(t, func(h *Handler) { h.CookieHostPrefix = &off })
	if rec := post(t, h, "action=accept_all", form, nil); !strings.HasPrefix(rec.Header().Get("Set-Cookie"), "consent=") {
		t.Errorf("cookie_host_prefix off: %q", rec.Header()["Set-Cookie"])
	}
	// A name that has the prefix already keeps it, and is read as it is.
	h = endpointHandler(t, func(h *Handler) { h.Cookie = "__Host-site" })
	if rec := post(t, h, "action=accept_all", form, nil); !strings.HasPrefix(rec.Header().Get("Set-Cookie"), "__Host-site=") {
		t.Errorf("cookie __Host-site: %q", rec.Header()["Set-Cookie"])
	}
	if st := state(h, "https://shop.example/consent", "__Host-site=necessary.analytics"); !st.Decided {
		t.Errorf("cookie __Host-site not read back: %+v", st)
	}
}

// TestValidateCookieStrength: settings a browser would refuse are
// configuration errors.
func TestValidateCookieStrength(t *testing.T) {
	on := true
	for _, tt := range []struct {
		h   Handler
		err string
	}{
		{Handler{Cookie: "consent", CookieSecure: "yes"}, "cookie_secure must be"},
		{Handler{Cookie: "consent", CookieSecure: "off", CookieHostPrefix: &on}, "cookie_host_prefix on needs a Secure cookie"},
		{Handler{Cookie: "__Host-consent", CookieSecure: "off"}, "must be Secure"},
		{Handler{Cookie: "__Secure-consent", CookieSecure: "off"}, "must be Secure"},
		{Handler{Cookie: "consent", CookieSecure: "off"}, ""},
		{Handler{Cookie: "consent", CookieSecure: "auto", CookieHostPrefix: &on}, ""},
	} {
		err := tt.h.validateCookieStrength()
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%+v: %v, want %q", tt.h, err, tt.err)
		}
	}
	// Validate runs the check.
	h := &Handler{Endpoint: "/consent", CookieSecure: "off", CookieHostPrefix: &on}
	if err := h.Provision(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), "cookie_host_prefix") {
		t.Errorf("Validate: %v", err)
	}
}

// TestReceiptLogLine: a receipt written by Caddy's default JSON encoder
// (the privacy encoder's default) carries an RFC 3339 time, whatever the
// encoder does with timestamps, and always an action.
func TestReceiptLogLine(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	h, _ := newTestHandler(t, func(h *Handler) {
		h.Endpoint = "/consent"
		h.clock = func() time.Time { return at }
	})
	var buf bytes.Buffer
	h.logger = zap.New(zapcore.NewCore(newTestPrivacyEncoder(t, ""), zapcore.AddSync(&buf), zapcore.DebugLevel))
	for _, tt := range []struct{ body, ctype, action string }{
		{"grant=analytics", form, "save"},
		{`{"grant":["analytics"]}`, "application/json", "save"},
		{"action=reject_all", form, "reject_all"},
		{"action=save&grant=functional", form, "save"},
	} {
		buf.Reset()
		post(t, h, tt.body, tt.ctype, nil)
		var line map[string]any
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("%s: %v: %q", tt.body, err, buf.String())
		}
		if line["msg"] != "consent recorded" || line["time"] != "2026-11-28T12:00:00Z" || line["action"] != tt.action {
			t.Errorf("%s: time %v, action %v; want 2026-11-28T12:00:00Z and %s:\n%s", tt.body, line["time"], line["action"], tt.action, buf.String())
		}
		if s, ok := line["time"].(string); !ok || func() bool { _, err := time.Parse(time.RFC3339, s); return err != nil }() {
			t.Errorf("time %v is no RFC 3339 text", line["time"])
		}
	}
}
