package consent

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/consentedge/consentedge/rules"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// The tools' vendor-level records, as they write them: each case names the
// vendors that must be refused and those that must not be, beside the
// categories granted.
func TestVendorConsent(t *testing.T) {
	r := defaultReader()
	m, err := r.ParseNameMap(map[string]string{"heatmaps": "hotjar", "stats": "analytics", "H12": "hotjar", "V5": "criteo"})
	if err != nil {
		t.Fatal(err)
	}
	cc := func(js string) string { return url.PathEscape(js) }
	cookiebotTC := url.QueryEscape(`{stamp:'x',necessary:true,preferences:true,statistics:true,marketing:true,method:'explicit',ver:1,utc:1764324000000,iab2:'` + tcVectors[0].s + `',region:'de'}`)
	tests := []struct {
		name, source, value string
		granted             []rules.Category
		refused, kept       []string // vendor ids
	}{
		{"klaro one analytics service off", SourceKlaro, cc(`{"googleAnalytics":true,"hotjar":false}`),
			[]rules.Category{rules.Analytics}, []string{"hotjar", "clarity"}, []string{"google-analytics"}},
		{"klaro site name through map", SourceKlaro, cc(`{"googleAnalytics":true,"heatmaps":false}`),
			[]rules.Category{rules.Analytics}, []string{"hotjar"}, []string{"google-analytics"}},
		{"klaro services accepted alone", SourceKlaro, cc(`{"heatmaps":true,"googleAnalytics":true}`),
			[]rules.Category{rules.Analytics}, []string{"clarity", "mixpanel"}, []string{"google-analytics", "hotjar"}},
		{"klaro name mapped to a category grants it whole", SourceKlaro, cc(`{"stats":true,"hotjar":false}`),
			[]rules.Category{rules.Analytics}, []string{"hotjar"}, []string{"clarity", "google-analytics"}},
		{"klaro necessary vendor is not refused", SourceKlaro, cc(`{"stripe":false,"googleAnalytics":true}`),
			[]rules.Category{rules.Analytics}, nil, []string{"stripe", "google-analytics"}},
		{"cookieconsent services", SourceCookieConsent,
			cc(`{"categories":["necessary","analytics"],"revision":0,"data":null,"consentTimestamp":"2026-11-28T10:00:00.000Z","consentId":"5c4b6c1e-2f6b-4b8e-9a35-1d2c3b4a5f6e","services":{"necessary":[],"analytics":["ga"]},"lastConsentTimestamp":"2026-11-28T10:00:00.000Z","expirationTime":1780000000000}`),
			[]rules.Category{rules.Analytics}, []string{"hotjar", "clarity"}, []string{"google-analytics"}},
		{"cookieconsent category without services", SourceCookieConsent,
			cc(`{"categories":["necessary","analytics"],"services":{"necessary":[],"analytics":[]}}`),
			[]rules.Category{rules.Analytics}, nil, []string{"hotjar", "clarity", "google-analytics"}},
		{"tcf refuses vendors without consent", SourceTCF, tcVectors[0].s,
			[]rules.Category{rules.Functional, rules.Analytics, rules.Advertising}, []string{"criteo", "taboola"}, []string{"google-ads", "facebook"}},
		{"cookiebot iab2", SourceCookiebot, cookiebotTC,
			[]rules.Category{rules.Functional, rules.Analytics, rules.Advertising}, []string{"criteo"}, []string{"google-ads", "facebook"}},
		{"onetrust hosts and general vendors", SourceOneTrust,
			"groups=C0001%3A1%2CC0002%3A1%2CC0003%3A1%2CC0004%3A1&hosts=H12%3A0%2CH99%3A0&genVendors=V5%3A1",
			[]rules.Category{rules.Functional, rules.Analytics, rules.Advertising}, []string{"hotjar"}, []string{"criteo", "clarity"}},
		{"tarteaucitron services", SourceTarteaucitron, "!gtag=true!hotjar=false!facebookpixel=wait",
			[]rules.Category{rules.Analytics}, []string{"hotjar", "clarity"}, []string{"google-analytics"}},
	}
	for _, tt := range tests {
		h := http.Header{"Cookie": {sourceCookies[tt.source] + "=" + tt.value}}
		st := r.Read(h, Config{Sources: []Source{{Name: tt.source}}, Names: m})
		want := rules.Set(0).With(rules.Necessary)
		for _, c := range tt.granted {
			want = want.With(c)
		}
		if st.Granted != want {
			t.Errorf("%s: granted %s, want %s", tt.name, r.rules.FormatSet(st.Granted), r.rules.FormatSet(want))
		}
		refused := r.rules.VendorIDs(st.Vendors.Denied)
		for _, id := range tt.refused {
			if !slices.Contains(refused, id) {
				t.Errorf("%s: %s not refused (refused: %v)", tt.name, id, refused)
			}
		}
		for _, id := range tt.kept {
			if slices.Contains(refused, id) {
				t.Errorf("%s: %s refused", tt.name, id)
			}
		}
	}
}

// A vendor refused by one tool is refused whatever another grants; a
// vendor granted by name does not lift its category's denial.
func TestVendorConsentCombined(t *testing.T) {
	r := defaultReader()
	cfg := Config{Sources: []Source{{Name: SourceNative}, {Name: SourceKlaro}}}
	read := func(cookies string) State {
		return r.Read(http.Header{"Cookie": {cookies}}, cfg)
	}
	st := read("consent=functional.analytics.advertising; klaro=" + url.PathEscape(`{"hotjar":false}`))
	if !st.Granted.Has(rules.Analytics) || !slices.Equal(r.rules.VendorIDs(st.Vendors.Denied), []string{"hotjar"}) {
		t.Errorf("native all, klaro refuses hotjar: granted %s, refused %v", r.rules.FormatSet(st.Granted), r.rules.VendorIDs(st.Vendors.Denied))
	}
	st = read("consent=functional; klaro=" + url.PathEscape(`{"hotjar":true}`))
	if st.Granted.Has(rules.Analytics) {
		t.Fatalf("a service's grant lifted the category another source denies: %s", r.rules.FormatSet(st.Granted))
	}
	p := r.rules.NewClassifier("https://shop.example/dir/page.html", st.Granted)
	p.RefuseVendors(st.Vendors.Denied)
	if v := p.URL([]byte("https://static.hotjar.com/c/hotjar-3456789.js?sv=6")); !v.Block {
		t.Error("hotjar kept: its category is denied whatever the tool grants by name")
	}
	st = read("consent=functional.analytics.advertising; klaro=" + url.PathEscape(`{"googleAnalytics":true}`))
	p = r.rules.NewClassifier("https://shop.example/dir/page.html", st.Granted)
	p.RefuseVendors(st.Vendors.Denied)
	if v := p.URL([]byte("https://www.clarity.ms/tag/abcdefghij")); !v.Block || v.Vendor != "clarity" {
		t.Errorf("clarity, a service nobody accepted by name: %+v", v)
	}
	if v := p.URL([]byte("https://www.googletagmanager.com/gtag/js?id=G-ABCDEF1234")); v.Block {
		t.Errorf("google analytics, accepted by name: %+v", v)
	}
	if p.Permissive() {
		t.Error("a page with a vendor refused is permissive")
	}
}

// Cookies and markup of a vendor refused by name go although its category
// is granted.
func TestRefusedVendorCookies(t *testing.T) {
	r := defaultReader()
	refused, err := r.rules.VendorSet("hotjar")
	if err != nil {
		t.Fatal(err)
	}
	all := r.rules.AllCategories()
	line, removed := r.rules.FilterCookieHeader("_hjSessionUser_3456789=abc; _ga=GA1.1.1.1", all, refused, nil)
	if line != "_ga=GA1.1.1.1" || len(removed) != 1 || removed[0].Vendor != "hotjar" {
		t.Errorf("cookie header: %q %v", line, removed)
	}
	if _, drop, _ := r.rules.SetCookie("_hjSessionUser_3456789=abc; Path=/", all, refused, time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)); !drop {
		t.Error("set-cookie of a refused vendor kept")
	}
	if _, drop, _ := r.rules.SetCookie("_ga=GA1.1.1.1; Path=/", all, refused, time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)); drop {
		t.Error("set-cookie of a granted vendor dropped")
	}
}

// In defer mode an element blocked for a reason the consent tool cannot
// see is stripped: the tool would revive its label at once.
func TestDeferUnseen(t *testing.T) {
	r := defaultReader()
	const page = `<script src="https://connect.facebook.net/en_US/fbevents.js"></script><p>kept</p>`
	ccAll := url.PathEscape(`{"categories":["necessary","functionality","analytics","marketing"],"revision":0,"services":{}}`)
	cfg := Config{Sources: []Source{{Name: SourceNative}}, GPC: true, Tool: SourceCookieConsent}
	dialect, err := r.DeferDialect(SourceCookieConsent, nil)
	if err != nil {
		t.Fatal(err)
	}
	filter := func(h http.Header) string {
		st := r.Read(h, cfg)
		p := r.rules.NewClassifier("https://shop.example/dir/page.html", st.Granted)
		p.RefuseVendors(st.Vendors.Denied)
		p.NeverDefer(st.Unseen)
		var out bytes.Buffer
		f := htmlfilter.New(&out, p, htmlfilter.Options{Mode: htmlfilter.Defer, Dialect: dialect})
		if _, err := f.Write([]byte(page)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	for _, tt := range []struct {
		name     string
		h        http.Header
		deferred bool
	}{
		{"no decision yet: the tool asks and revives", http.Header{}, true},
		{"tool grants all, server has no decision", http.Header{"Cookie": {"cc_cookie=" + ccAll}}, false},
		{"gpc, no tool cookie", http.Header{"Sec-Gpc": {"1"}}, false},
		{"gpc with the tool's accept-all", http.Header{"Sec-Gpc": {"1"}, "Cookie": {"cc_cookie=" + ccAll + "; consent=functional.analytics.advertising"}}, false},
	} {
		out := filter(tt.h)
		if !strings.Contains(out, "<p>kept</p>") {
			t.Errorf("%s: content lost: %s", tt.name, out)
		}
		if got := strings.Contains(out, `data-category="advertising"`); got != tt.deferred {
			t.Errorf("%s: deferred %v, want %v: %s", tt.name, got, tt.deferred, out)
		}
		if strings.Contains(out, "fbevents.js") != tt.deferred {
			t.Errorf("%s: pixel left in the page: %s", tt.name, out)
		}
	}
}
