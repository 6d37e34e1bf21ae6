package caddymodule

import (
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestUnclassified: `unclassified advertising` removes the third-party
// scripts no rule names for a visitor without consent and keeps them for
// one who consented to everything; first-party and necessary ones stay.
func TestUnclassified(t *testing.T) {
	page, err := os.ReadFile("../testdata/cmd/unclassified.html")
	if err != nil {
		t.Fatal(err)
	}
	unknown := []string{"cdn.newtracker.example", "tags.personalize.example", "beacon.audience-measure.example"}
	kept := []string{"/assets/app.js", "js.stripe.com", "img.shop-cdn.example"}
	for _, tc := range []struct {
		unclassified, cookie string
		gone                 bool
	}{
		{"advertising", "", true},
		{"advertising", "consent=functional.analytics.advertising", false},
		{"advertising", "consent=analytics", true},
		{"allow", "", false},
		{"", "", false},
	} {
		h, _ := newTestHandler(t, func(h *Handler) { h.Unclassified = tc.unclassified })
		req := httptest.NewRequest("GET", "http://www.shop.example/", nil)
		if tc.cookie != "" {
			req.Header.Set("Cookie", tc.cookie)
		}
		rec, err := serve(h, req, htmlOrigin(string(page)))
		if err != nil {
			t.Fatal(err)
		}
		body := rec.Body.String()
		for _, host := range unknown {
			if strings.Contains(body, host) == tc.gone {
				t.Errorf("unclassified %q, cookie %q: %s present %v", tc.unclassified, tc.cookie, host, !tc.gone)
			}
		}
		for _, s := range kept {
			if !strings.Contains(body, s) {
				t.Errorf("unclassified %q, cookie %q: %s went", tc.unclassified, tc.cookie, s)
			}
		}
	}
}
