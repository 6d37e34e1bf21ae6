package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
)

// TestIntegrationTrackerRedirect runs a first-party tracking hop through a
// real Caddy and reverse_proxy: the origin redirects to the Meta pixel with
// a body reverse_proxy copies. An <img> request gets the 204, whole and on
// a connection that stays usable; a click-through keeps its redirect.
func TestIntegrationTrackerRedirect(t *testing.T) {
	if testing.Short() {
		t.Skip("caddytest starts a Caddy instance")
	}
	body := strings.Repeat("<p>moved</p>\n", 8192)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", pixelURL)
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Set-Cookie", "_fbp=fb.1.2.3; Path=/")
		w.WriteHeader(http.StatusFound)
		io.WriteString(w, body)
	}))
	defer origin.Close()

	tester := caddytest.NewTester(t)
	initCaddy(tester, caddytestGlobal+fmt.Sprintf(`
	http://localhost:9080 {
		consent
		reverse_proxy %s
	}
	`, strings.TrimPrefix(origin.URL, "http://")))

	client := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	get := func(dest string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://localhost:9080/out/fb", nil)
		req.Header.Set("Sec-Fetch-Dest", dest)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: reading the body: %v", dest, err)
		}
		return resp, string(b)
	}
	for range 2 { // the second on the same connection
		resp, b := get("image")
		if resp.StatusCode != http.StatusNoContent || b != "" || resp.Header.Get("Location") != "" || len(resp.Header["Set-Cookie"]) > 0 {
			t.Errorf("img: %d, Location %q, Set-Cookie %q, %d body bytes", resp.StatusCode, resp.Header.Get("Location"), resp.Header["Set-Cookie"], len(b))
		}
	}
	resp, _ := get("document")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != pixelURL {
		t.Errorf("navigation: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
