package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// TestIntegrationHeaders runs the request and response headers end to end through a real Caddy: a
// visitor with tracking cookies and click ids meets an origin that records
// what it receives and sets tracking cookies of its own; the visitor then
// records, reads back and withdraws consent at the endpoint with a cookie
// jar, as a browser would.
func TestIntegrationHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("caddytest starts a Caddy instance")
	}
	var mu sync.Mutex
	var seenCookie, seenQuery []string
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seenCookie = append(seenCookie, r.Header.Get("Cookie"))
		seenQuery = append(seenQuery, r.URL.RawQuery)
		mu.Unlock()
		// Server-side tagging sets first-party tracking cookies.
		w.Header().Add("Set-Cookie", "_ga=GA1.1.42.1700000000; Path=/; Max-Age=94608000; HttpOnly")
		w.Header().Add("Set-Cookie", "_fbp=fb.1.1700000000.42; Path=/; Max-Age=31536000")
		w.Header().Add("Set-Cookie", "app_session=s1; Path=/; HttpOnly")
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<p>shop</p>")
	}))
	defer origin.Close()
	last := func() (string, string) {
		mu.Lock()
		defer mu.Unlock()
		return seenCookie[len(seenCookie)-1], seenQuery[len(seenQuery)-1]
	}

	tester := caddytest.NewTester(t)
	initCaddy(tester, caddytestGlobal+fmt.Sprintf(`
	http://localhost:9080 {
		consent {
			endpoint /consent
			collector /g/collect analytics
			policy_version "6 August 2019"
		}
		reverse_proxy %s
	}
	`, strings.TrimPrefix(origin.URL, "http://")))

	jar, _ := cookiejar.New(nil)
	base, _ := url.Parse("http://localhost:9080/")
	jar.SetCookies(base, []*http.Cookie{{Name: "_ga", Value: "GA1.1.1.1"}, {Name: "_fbp", Value: "fb.1.2"}, {Name: "cart", Value: "3"}})
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := client.Get("http://localhost:9080" + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	post := func(body string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://localhost:9080/consent", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://localhost:9080")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		// Do not follow the 303: the test looks at it.
		c := *client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	jarNames := func() string {
		var names []string
		for _, c := range jar.Cookies(base) {
			names = append(names, c.Name)
		}
		return strings.Join(names, " ")
	}

	// 1. No decision: the origin sees neither tracking cookies nor click
	// ids, and its tracking Set-Cookies never reach the visitor.
	resp := get("/landing?q=boots&gclid=Cj0KCQ&fbclid=IwAR&utm_source=ad")
	cookie, query := last()
	if cookie != "cart=3" || query != "q=boots&utm_source=ad" {
		t.Errorf("origin got Cookie %q, query %q", cookie, query)
	}
	if sc := resp.Header["Set-Cookie"]; len(sc) != 1 || !strings.HasPrefix(sc[0], "app_session=") {
		t.Errorf("Set-Cookie reaching the visitor: %q", sc)
	}
	// A first-party collector answers without the origin.
	n := len(seenQuery)
	if resp := get("/g/collect?v=2&tid=G-1"); resp.StatusCode != http.StatusNoContent || len(seenQuery) != n {
		t.Errorf("collector: %d, origin calls %d → %d", resp.StatusCode, n, len(seenQuery))
	}

	// 2. Refused attempts change nothing.
	for name, tc := range map[string]struct {
		body string
		hdr  map[string]string
		want int
	}{
		"cross-site":    {"action=accept_all", map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		"open redirect": {"action=accept_all&redirect=//evil.example/", nil, 400},
		"oversized":     {"action=accept_all&pad=" + strings.Repeat("x", 8000), nil, 400},
	} {
		if resp := post(tc.body, tc.hdr); resp.StatusCode != tc.want || resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("Set-Cookie"))
		}
	}

	// 3. Accept analytics and advertising: a receipt, a redirect home, the
	// cookie in the jar; the state reads back; the origin now gets the
	// tracking cookies and click ids, and its Set-Cookies pass, capped.
	resp = post("grant=analytics&grant=advertising&redirect=/landing", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/landing" || resp.Header.Get("Consent-Receipt") == "" {
		t.Fatalf("accept: %d %q %q", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("Consent-Receipt"))
	}
	state, err := client.Get("http://localhost:9080/consent")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(state.Body)
	state.Body.Close()
	if !strings.Contains(string(body), `"granted":["necessary","analytics","advertising"]`) || !strings.Contains(string(body), `"decided":true`) {
		t.Errorf("state after accepting: %s", body)
	}
	resp = get("/landing?q=boots&gclid=Cj0KCQ")
	cookie, query = last()
	if !strings.Contains(cookie, "_ga=") || !strings.Contains(cookie, "_fbp=") || query != "q=boots&gclid=Cj0KCQ" {
		t.Errorf("consented: origin got Cookie %q, query %q", cookie, query)
	}
	var capped int
	for _, v := range resp.Header["Set-Cookie"] {
		if strings.HasPrefix(v, "_ga=") && strings.HasSuffix(v, "Max-Age=63072000") ||
			strings.HasPrefix(v, "_fbp=") && strings.HasSuffix(v, "Max-Age=7776000") {
			capped++
		}
	}
	if capped != 2 {
		t.Errorf("retention caps: %q", resp.Header["Set-Cookie"])
	}
	if got := jarNames(); !strings.Contains(got, "_ga") || !strings.Contains(got, "_fbp") {
		t.Fatalf("jar after accepting: %s", got)
	}

	// 4. Withdraw advertising: the Meta cookie (HttpOnly or not, the
	// browser drops it on the endpoint's expiry), analytics stays.
	resp = post("grant=analytics", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", resp.StatusCode)
	}
	got := jarNames()
	if strings.Contains(got, "_fbp") || !strings.Contains(got, "_ga") || !strings.Contains(got, "consent") {
		t.Errorf("jar after withdrawing advertising: %s", got)
	}
	get("/landing?gclid=1")
	cookie, query = last()
	if strings.Contains(cookie, "_fbp") || !strings.Contains(cookie, "_ga=") || query != "" {
		t.Errorf("after withdrawal: origin got Cookie %q, query %q", cookie, query)
	}
}
