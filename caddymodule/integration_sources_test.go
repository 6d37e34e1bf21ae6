package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// TestIntegrationSources reads each consent tool's cookie through a real
// Caddy in front of a page carrying an analytics tracker (Google Analytics)
// and an advertising one (the Meta pixel): for each source, a cookie that
// grants analytics only must keep the first and remove the second.
func TestIntegrationSources(t *testing.T) {
	if testing.Short() {
		t.Skip("caddytest starts a Caddy instance")
	}
	const page = `<!DOCTYPE html><html><head>` +
		`<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>` +
		`<script async src="https://connect.facebook.net/en_US/fbevents.js"></script>` +
		`</head><body><p>shop</p></body></html>`
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, page)
	}))
	defer origin.Close()
	tester := caddytest.NewTester(t)
	initCaddy(tester, caddytestGlobal+fmt.Sprintf(`
	http://localhost:9080 {
		consent {
			source consent
			source cookieconsent
			source klaro
			source cookiebot
			source onetrust
			source cookieyes
			source complianz
			source tarteaucitron
			source tcf
			dnt on
		}
		reverse_proxy %s
	}
	`, strings.TrimPrefix(origin.URL, "http://")))
	client := &http.Client{Timeout: 30 * time.Second}

	analyticsOnly := map[string]string{
		"consent":       "consent=analytics",
		"cookieconsent": "cc_cookie=" + url.PathEscape(`{"categories":["necessary","analytics"],"revision":0}`),
		"klaro":         "klaro=" + url.PathEscape(`{"googleAnalytics":true,"facebook":false}`),
		"cookiebot":     "CookieConsent=" + url.QueryEscape(`{stamp:'x',necessary:true,preferences:false,statistics:true,marketing:false,method:'explicit',ver:1}`),
		"onetrust":      "OptanonConsent=groups=C0001%3A1%2CC0002%3A1%2CC0004%3A0",
		"cookieyes":     "cookieyes-consent=consentid:x,consent:yes,action:yes,necessary:yes,analytics:yes,advertisement:no",
		"complianz":     "cmplz_statistics=allow; cmplz_marketing=deny",
		"tarteaucitron": "tarteaucitron=!gtag=true!facebookpixel=false",
		// Purposes 1 and 7–10, from the IAB reference encoder (consent/tcf_test.go).
		"tcf": "euconsent-v2=CQtAQoAQtDjkAAKACAENCWEgAIPAAAAAAAYgF5wAQF5gAAAA",
	}
	for source, cookie := range analyticsOnly {
		for _, dnt := range []bool{false, true} {
			req, _ := http.NewRequest("GET", "http://localhost:9080/", nil)
			req.Header.Set("Cookie", cookie)
			if dnt {
				req.Header.Set("DNT", "1")
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ga := strings.Contains(string(body), "googletagmanager.com")
			fb := strings.Contains(string(body), "connect.facebook.net")
			// DNT on objects to analytics too.
			if ga == dnt || fb {
				t.Errorf("%s (dnt %v): analytics kept %v, advertising kept %v", source, dnt, ga, fb)
			}
		}
	}
	// A denial in one tool beats a grant in another.
	req, _ := http.NewRequest("GET", "http://localhost:9080/", nil)
	req.Header.Set("Cookie", "consent=analytics.advertising; tarteaucitron=!facebookpixel=false")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "googletagmanager.com") || strings.Contains(string(body), "connect.facebook.net") {
		t.Errorf("denial elsewhere: %s", body)
	}
}
