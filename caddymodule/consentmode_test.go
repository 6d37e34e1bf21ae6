package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules"
)

func TestConsentMode(t *testing.T) {
	const page = `<!DOCTYPE html><html><head><meta charset="utf-8">` +
		`<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>` +
		`<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('js',new Date());gtag('config','G-1');</script>` +
		`<script async src="https://connect.facebook.net/en_US/fbevents.js"></script>` +
		`</head><body><p>shop</p></body></html>`
	origin := func(csp string) func(http.ResponseWriter, *http.Request) error {
		return func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/html")
			if csp != "" {
				w.Header().Set("Content-Security-Policy", csp)
			}
			_, err := w.Write([]byte(page))
			return err
		}
	}
	for _, tt := range []struct {
		mode, consent, csp string
		gtag, fbq          bool
		defaults           string
	}{
		{"basic", "", "", false, false, "'ad_storage':'denied','ad_user_data':'denied','ad_personalization':'denied','analytics_storage':'denied'"},
		{"basic", "analytics", "", true, false, "'ad_storage':'denied','ad_user_data':'denied','ad_personalization':'denied','analytics_storage':'granted'"},
		{"advanced", "", "", true, false, "'ad_storage':'denied','ad_user_data':'denied','ad_personalization':'denied','analytics_storage':'denied'"},
		{"advanced", "functional.analytics.advertising", "script-src 'nonce-abc123' 'strict-dynamic'", true, true, "'ad_storage':'granted','ad_user_data':'granted','ad_personalization':'granted','analytics_storage':'granted','functionality_storage':'granted'"},
	} {
		h, _ := newTestHandler(t, func(h *Handler) { h.ConsentMode = tt.mode })
		req := httptest.NewRequest("GET", "/", nil)
		if tt.consent != "" {
			req.Header.Set("Cookie", "consent="+tt.consent)
		}
		rec, err := serve(h, req, origin(tt.csp))
		if err != nil {
			t.Fatal(err)
		}
		body := rec.Body.String()
		name := tt.mode + " " + tt.consent
		// The defaults come first in the head, before any Google tag.
		head := `<head><script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('consent','default',{`
		if !strings.Contains(body, head) || !strings.Contains(body, tt.defaults) {
			t.Errorf("%s: no consent defaults at the top of the head:\n%s", name, body)
		}
		// A page with a policy of its own: the defaults pass it by their hash.
		script := hashSource(elementText(rules.ConsentModeScript(rules.Default().AllCategories())))
		if csp := rec.Header().Get("Content-Security-Policy"); tt.csp != "" && csp != tt.csp+" "+script {
			t.Errorf("%s: the page's policy %q does not allow the defaults (%s)", name, csp, script)
		}
		if got := strings.Contains(body, "googletagmanager.com"); got != tt.gtag {
			t.Errorf("%s: Google tag kept %v, want %v", name, got, tt.gtag)
		}
		if got := strings.Contains(body, "connect.facebook.net"); got != tt.fbq {
			t.Errorf("%s: Meta pixel kept %v, want %v", name, got, tt.fbq)
		}
	}
}
