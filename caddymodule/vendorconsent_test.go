package caddymodule

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"

	"github.com/consentedge/consentedge/rules"
)

// Vendors the visitor refused in Klaro, one through the site's own service
// name, lose their markup, their cookies and click ids to the origin and
// their Set-Cookie, although their categories are granted; the access log
// names the choice.
func TestVendorRefusedByName(t *testing.T) {
	h, _ := newTestHandler(t, func(h *Handler) {
		h.Sources = []ConsentSource{{Name: "klaro"}}
		h.Map = map[string]string{"heatmaps": "hotjar", "stats": "analytics", "ads": "advertising"}
		h.mapOrder = []string{"heatmaps", "stats", "ads"}
	})
	const page = `<script src="https://static.hotjar.com/c/hotjar-3456789.js?sv=6"></script>` +
		`<script src="https://www.googletagmanager.com/gtag/js?id=G-ABCDEF1234"></script><p>kept</p>`
	var originCookie, originQuery string
	origin := func(w http.ResponseWriter, r *http.Request) error {
		originCookie, originQuery = r.Header.Get("Cookie"), r.URL.RawQuery
		w.Header().Add("Set-Cookie", "_hjSessionUser_3456789=abc; Path=/")
		return htmlOrigin(page)(w, r)
	}
	req := httptest.NewRequest("GET", "http://shop.example/?ScCid=abc&page=2", nil)
	klaro := url.PathEscape(`{"stats":true,"ads":true,"heatmaps":false,"snap-pixel":false}`)
	req.Header.Set("Cookie", "klaro="+klaro+"; _hjSessionUser_3456789=abc; _ga=GA1.1.1.1")
	rec, err := serve(h, req, origin)
	if err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if strings.Contains(body, "hotjar") || !strings.Contains(body, "gtag/js") || !strings.Contains(body, "<p>kept</p>") {
		t.Errorf("body: %s", body)
	}
	if strings.Contains(originCookie, "_hj") || !strings.Contains(originCookie, "_ga=") {
		t.Errorf("cookies to the origin: %q", originCookie)
	}
	if originQuery != "page=2" {
		t.Errorf("query to the origin: %q, want the refused vendor's click id gone", originQuery)
	}
	if sc := rec.Header().Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("set-cookie of the refused vendor kept: %q", sc)
	}
	if csp := rec.Header().Get("X-Dns-Prefetch-Control"); csp != "off" {
		t.Errorf("dns prefetch on for a visitor who refused a vendor: %q", csp)
	}

	st := h.consent.Read(req.Header, h.consentConfig(req))
	enc := zapcore.NewMapObjectEncoder()
	if err := (consentFields{granted: "x", vendors: st.Vendors, rules: h.rules}).MarshalLogObject(enc); err != nil {
		t.Fatal(err)
	}
	if got := enc.Fields["consent_vendors_refused"]; got != "hotjar.snap-pixel" {
		t.Errorf("consent_vendors_refused = %v", got)
	}
	if _, ok := enc.Fields["consent_vendors_only"]; ok {
		t.Error("a category granted whole logged as granted vendor by vendor")
	}
}

// The entity tag and the page cache tell apart visitors who differ only in
// a vendor refused by name.
func TestVendorRefusedVariant(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	all := h.allSet
	hotjar, err := h.rules.VendorSet("hotjar")
	if err != nil {
		t.Fatal(err)
	}
	if h.etagSuffix(all, nil) == h.etagSuffix(all, hotjar) {
		t.Error("one entity tag for two variants")
	}
	if h.etagSuffix(all, nil) != h.etagSuffix(all, rules.VendorSet{0, 0}) {
		t.Error("an empty refusal makes another variant")
	}
}
