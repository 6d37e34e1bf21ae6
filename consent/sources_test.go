package consent

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/internal/httpfield"
	"github.com/consentedge/consentedge/rules"
)

// Real-shaped values, written from each tool's documentation and the
// cookies the tools write.
var (
	ccV3 = url.PathEscape(`{"categories":["necessary","analytics"],"revision":0,"data":null,"consentTimestamp":"2026-11-28T10:00:00.000Z","consentId":"5c4b6c1e-2f6b-4b8e-9a35-1d2c3b4a5f6e","services":{"necessary":[],"analytics":["ga"]},"lastConsentTimestamp":"2026-11-28T10:00:00.000Z","expirationTime":1780000000000}`)
	ccV2 = `{"level":["necessary","marketing"],"revision":0,"data":null,"rfc_cookie":false}`

	cookiebotStats = url.QueryEscape(`{stamp:'-1fQmOmYd6S1T3z6TtJ4XWgE0n7rP8tPbOfmrJx2o0jVu1fJhPZ0kXw==',necessary:true,preferences:false,statistics:true,marketing:false,method:'explicit',ver:1,utc:1764324000000,region:'de'}`)
	oneTrust       = "isGpcEnabled=0&datestamp=Sat+Nov+28+2026+11%3A00%3A00+GMT%2B0100+(Central+European+Standard+Time)&version=202409.1.0&browserGpcFlag=0&isIABGlobal=false&hosts=&consentId=0d8c5d3e-7d47-4bd6-9d0f-4a1b2c3d4e5f&interactionCount=1&isAnonUser=1&landingPath=NotLandingPage&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A0%2CC0004%3A0%2CC0005%3A0&AwaitingReconsent=false&geolocation=DE%3BBE"
	cookieYes      = "consentid:ZWRmMjQ2ZDItN2U0Zi00YzE0LWIxZjUtOTQ1NmU2ZTQ3ZWRh,consent:yes,action:yes,necessary:yes,functional:yes,analytics:no,performance:no,advertisement:yes,other:no"
)

func TestReadSource(t *testing.T) {
	r := defaultReader()
	m := r.NewNameMap(map[string]rules.Category{"stats": rules.Analytics, "fbq": rules.Advertising})
	all := r.rules.AllCategories()
	set := func(cs ...rules.Category) rules.Set {
		var s rules.Set
		for _, c := range cs {
			s = s.With(c)
		}
		return s
	}
	for _, tt := range []struct {
		name, source, cookie, value string
		grant, deny                 rules.Set
		ok                          bool
	}{
		{"native", SourceNative, "consent", "functional.analytics", set(rules.Necessary, rules.Functional, rules.Analytics), set(rules.Advertising), true},
		{"native malformed", SourceNative, "consent", "a%2Eb", 0, 0, false},

		{"cookieconsent v3", SourceCookieConsent, "cc_cookie", ccV3, set(rules.Necessary, rules.Analytics), set(rules.Functional, rules.Advertising), true},
		{"cookieconsent v2 raw json", SourceCookieConsent, "cc_cookie", ccV2, set(rules.Necessary, rules.Advertising), set(rules.Functional, rules.Analytics), true},
		{"cookieconsent operator name", SourceCookieConsent, "cc_cookie", `{"categories":["necessary","stats"]}`, set(rules.Necessary, rules.Analytics), set(rules.Functional, rules.Advertising), true},
		{"cookieconsent unknown names", SourceCookieConsent, "cc_cookie", `{"categories":["necessary","weather"]}`, set(rules.Necessary), set(rules.Functional, rules.Analytics, rules.Advertising), true},
		{"cookieconsent not json", SourceCookieConsent, "cc_cookie", `{"categories":`, 0, 0, false},
		{"cookieconsent no list", SourceCookieConsent, "cc_cookie", `{"revision":0}`, 0, 0, false},
		{"cookieconsent bad escape", SourceCookieConsent, "cc_cookie", `%7B%zz`, 0, 0, false},

		// A service that is a vendor of ours grants its category for itself
		// and refuses itself alone (TestVendorConsent checks the vendors).
		{"klaro", SourceKlaro, "klaro", url.PathEscape(`{"googleAnalytics":true,"facebook":false,"youtube":true}`), set(rules.Analytics, rules.Advertising), 0, true},
		{"klaro vendor ids", SourceKlaro, "klaro", `{"hotjar":false,"intercom":true,"fbq":true}`, set(rules.Analytics, rules.Advertising), 0, true},
		{"klaro denial wins", SourceKlaro, "klaro", `{"googleAnalytics":true,"matomo":false}`, 0, set(rules.Analytics), true},
		{"klaro not json", SourceKlaro, "klaro", `googleAnalytics=true`, 0, 0, false},

		{"cookiebot", SourceCookiebot, "CookieConsent", cookiebotStats, set(rules.Necessary, rules.Analytics), set(rules.Functional, rules.Advertising), true},
		{"cookiebot -1", SourceCookiebot, "CookieConsent", "-1", all, 0, true},
		{"cookiebot garbage", SourceCookiebot, "CookieConsent", "yes", 0, 0, false},
		{"cookiebot no categories", SourceCookiebot, "CookieConsent", "{stamp:'x'}", 0, 0, false},

		{"onetrust", SourceOneTrust, "OptanonConsent", oneTrust, set(rules.Necessary, rules.Analytics), set(rules.Functional, rules.Advertising), true},
		{"onetrust social denied, targeting granted", SourceOneTrust, "OptanonConsent", "groups=C0001%3A1%2CC0004%3A1%2CC0005%3A0", set(rules.Necessary), set(rules.Advertising), true},
		{"onetrust no groups", SourceOneTrust, "OptanonConsent", "isGpcEnabled=0&version=1", 0, 0, false},
		{"onetrust bad query", SourceOneTrust, "OptanonConsent", "groups=%zz", 0, 0, false},

		{"cookieyes", SourceCookieYes, "cookieyes-consent", cookieYes, set(rules.Necessary, rules.Functional, rules.Advertising), set(rules.Analytics), true},
		{"cookieyes rejected", SourceCookieYes, "cookieyes-consent", "consentid:x,consent:no,action:yes,necessary:yes,functional:no,analytics:no,performance:no,advertisement:no,other:no", 0, set(rules.Functional, rules.Analytics, rules.Advertising), true},
		{"cookieyes no consent field", SourceCookieYes, "cookieyes-consent", "analytics:yes", 0, 0, false},

		{"complianz statistics", SourceComplianz, "cmplz_statistics", "allow", set(rules.Analytics), 0, true},
		{"complianz marketing", SourceComplianz, "cmplz_marketing", "deny", 0, set(rules.Advertising), true},
		{"complianz unrelated cookie", SourceComplianz, "cmplz_banner-status", "dismissed", 0, 0, true},
		{"complianz bad value", SourceComplianz, "cmplz_marketing", "maybe", 0, 0, false},

		{"tarteaucitron", SourceTarteaucitron, "tarteaucitron", "!gtag=true!facebookpixel=false!intercomChat=wait", set(rules.Analytics), 0, true},
		{"tarteaucitron category name", SourceTarteaucitron, "tarteaucitron", "!googletagmanager=true!adsense=false", set(rules.Analytics), set(rules.Advertising), true},
		{"tarteaucitron wait only", SourceTarteaucitron, "tarteaucitron", "!gtag=wait", 0, 0, true},
		{"tarteaucitron garbage", SourceTarteaucitron, "tarteaucitron", "gtag=true", 0, 0, false},

		{"tcf accept all", SourceTCF, "euconsent-v2", tcVectors[0].s, set(rules.Functional, rules.Analytics, rules.Advertising), 0, true},
		{"tcf analytics only", SourceTCF, "euconsent-v2", tcVectors[2].s + ".YAAAAAAAAAAA", set(rules.Analytics), set(rules.Functional, rules.Advertising), true},
		{"tcf garbage", SourceTCF, "euconsent-v2", "not-a-tc-string", 0, 0, false},

		{"unknown source", "didomi", "didomi_token", "x", 0, 0, false},
		{"oversized", SourceKlaro, "klaro", strings.Repeat(" ", maxSourceValue+1), 0, 0, false},
	} {
		got, ok := r.ReadSource(tt.source, tt.cookie, tt.value, m)
		if ok != tt.ok || got.Grant != tt.grant || got.Deny != tt.deny {
			t.Errorf("%s: ReadSource = %+v %v, want grant %b deny %b %v", tt.name, got, ok, tt.grant, tt.deny, tt.ok)
		}
		if got.Grant&got.Deny != 0 {
			t.Errorf("%s: grants and denies %b", tt.name, got.Grant&got.Deny)
		}
	}
}

func TestReadConsentSources(t *testing.T) {
	r := defaultReader()
	hdr := func(cookies ...string) http.Header { return http.Header{"Cookie": {strings.Join(cookies, "; ")}} }
	nec := rules.Set(1 << rules.Necessary)
	for _, tt := range []struct {
		name    string
		sources []Source
		h       http.Header
		dnt     bool
		want    rules.Set
		signals string
	}{
		{"native only by default", nil, hdr("consent=analytics", "OptanonConsent="+oneTrust), false, nec.With(rules.Analytics), "consent"},
		{"onetrust", []Source{{Name: SourceOneTrust}}, hdr("OptanonConsent=" + oneTrust), false, nec.With(rules.Analytics), "onetrust"},
		{"no cookie: necessary", []Source{{Name: SourceOneTrust}, {Name: SourceTCF}}, hdr("session=1"), false, nec, "none"},
		{"a grant elsewhere adds", []Source{{Name: SourceCookieYes}, {Name: SourceComplianz}},
			hdr("cookieyes-consent=consent:yes,necessary:yes,advertisement:yes", "cmplz_statistics=allow"), false, nec.With(rules.Advertising).With(rules.Analytics), "cookieyes+complianz"},
		{"an explicit denial anywhere wins", []Source{{Name: SourceOneTrust}, {Name: SourceTarteaucitron}},
			hdr("OptanonConsent="+oneTrust, "tarteaucitron=!googletagmanager=false"), false, nec, "onetrust+tarteaucitron"},
		{"list tools deny the rest", []Source{{Name: SourceNative}, {Name: SourceComplianz}},
			hdr("consent=analytics", "cmplz_marketing=allow"), false, nec.With(rules.Analytics), "consent+complianz"},
		{"complianz cookies add up", []Source{{Name: SourceComplianz}},
			hdr("cmplz_statistics=allow", "cmplz_marketing=allow", "cmplz_preferences=deny"), false, nec.With(rules.Analytics).With(rules.Advertising), "complianz"},
		{"duplicate tool cookies intersect", []Source{{Name: SourceOneTrust}},
			hdr("OptanonConsent="+oneTrust, "OptanonConsent=groups=C0002%3A0"), false, nec, "onetrust"},
		{"a malformed duplicate grants nothing", []Source{{Name: SourceKlaro}},
			hdr(`klaro={"googleAnalytics":true}`, "klaro=garbage"), false, nec, "none"},
		{"custom cookie name", []Source{{Name: SourceTCF, Cookie: "tcstring"}}, hdr("tcstring=" + tcVectors[0].s), false, r.rules.AllCategories(), "tcf"},
		{"dnt objects to tracking", []Source{{Name: SourceTCF}}, hdr("euconsent-v2=" + tcVectors[0].s), true, nec.With(rules.Functional), "tcf+dnt"},
	} {
		h := tt.h
		if tt.dnt {
			h.Set("DNT", "1")
		}
		st := r.Read(h, Config{Sources: tt.sources, DNT: tt.dnt})
		if st.Granted != tt.want || st.Signals.String() != tt.signals {
			t.Errorf("%s: %b %s (%s), want %b %s", tt.name, st.Granted, st.Signals, st.Reason, tt.want, tt.signals)
		}
	}
	// DNT is ignored unless configured.
	h := hdr("consent=analytics")
	h.Set("DNT", "1")
	if got := r.Granted(h, Config{}); !got.Has(rules.Analytics) {
		t.Errorf("DNT honoured without dnt on: %b", got)
	}
}

func FuzzSources(f *testing.F) {
	for _, v := range []string{ccV3, ccV2, cookiebotStats, "-1", oneTrust, cookieYes, "allow", "!gtag=true!x=false", tcVectors[4].s, `{"a":true}`, "%", "{,:}",
		`{"googleAnalytics":true,"heatmaps":false,"stripe":false}`, "groups=C0002%3A1&hosts=H12%3A0&genVendors=V5%3A1",
		`{stamp:'x',statistics:true,iab2:'` + tcVectors[0].s + `'}`} {
		f.Add(v, uint8(0))
	}
	r := defaultReader()
	m, err := r.ParseNameMap(map[string]string{"heatmaps": "hotjar", "H12": "hotjar", "V5": "criteo", "stats": "analytics"})
	if err != nil {
		f.Fatal(err)
	}
	names := SourceNames()
	f.Fuzz(func(t *testing.T, v string, which uint8) {
		src := names[int(which)%len(names)]
		cookie := sourceCookies[src]
		if src == SourceComplianz {
			cookie += "statistics"
		}
		s, ok := r.ReadSource(src, cookie, v, m)
		if s.Grant&s.Deny != 0 || (s.Grant|s.Deny)&^r.rules.AllCategories() != 0 {
			t.Fatalf("%s %q: %+v", src, v, s)
		}
		if !ok && s.Grant != 0 {
			t.Fatalf("%s %q: malformed but grants %b", src, v, s.Grant)
		}
		checkVendorStated(t, r.rules, s)
		// Through a Cookie header the value ends at the first ';' and
		// loses its surrounding SP and HTAB: compare with what that
		// value grants.
		cv, _, _ := strings.Cut(v, ";")
		cv = httpfield.TrimWSP(cv)
		cs, _ := r.ReadSource(src, cookie, cv, m)
		h := http.Header{"Cookie": {cookie + "=" + v}}
		st := r.Read(h, Config{Sources: []Source{{Name: src}}, Names: m})
		got := st.Granted
		if !got.Has(rules.Necessary) || got&^(cs.Grant|1<<rules.Necessary) != 0 {
			t.Fatalf("%s %q: consent %b beyond the grant %b", src, v, got, cs.Grant)
		}
		for i, vd := range r.rules.Vendors() {
			if vd.Category == rules.Necessary && st.Vendors.Denied.Has(int32(i)) {
				t.Fatalf("%s %q: necessary vendor %s refused", src, v, vd.ID)
			}
		}
	})
}

// checkVendorStated checks a source's vendor-level reading: no vendor
// both granted and refused, none out of the rule set, no necessary one
// refused.
func checkVendorStated(t *testing.T, r *rules.Rules, s Stated) {
	t.Helper()
	vendors := r.Vendors()
	n := int32(len(vendors))
	for _, vs := range []rules.VendorSet{s.VendorGrant, s.VendorDeny} {
		for i := int32(0); i < int32(64*len(vs)); i++ {
			if vs.Has(i) && i >= n {
				t.Fatalf("vendor index %d out of the rule set", i)
			}
		}
	}
	for i := int32(0); i < n; i++ {
		if s.VendorGrant.Has(i) && s.VendorDeny.Has(i) {
			t.Fatalf("vendor %s both granted and refused", vendors[i].ID)
		}
		if s.VendorDeny.Has(i) && vendors[i].Category == rules.Necessary {
			t.Fatalf("necessary vendor %s refused", vendors[i].ID)
		}
	}
}

// BenchmarkConsentSources reads each consent tool's cookie as a request
// carries it, beside a session cookie and an analytics cookie: the cost of
// `source <tool>` per request.
func BenchmarkConsentSources(b *testing.B) {
	r := defaultReader()
	for _, bc := range []struct{ source, cookie, value string }{
		{SourceNative, "consent", "functional.analytics"},
		{SourceCookieConsent, "cc_cookie", ccV3},
		{SourceKlaro, "klaro", url.PathEscape(`{"googleAnalytics":true,"facebook":false,"youtube":true}`)},
		{SourceCookiebot, "CookieConsent", cookiebotStats},
		{SourceOneTrust, "OptanonConsent", oneTrust},
		{SourceCookieYes, "cookieyes-consent", cookieYes},
		{SourceComplianz, "cmplz_statistics", "allow"},
		{SourceTarteaucitron, "tarteaucitron", "!gtag=true!facebookpixel=false!intercomChat=wait"},
		{SourceTCF, "euconsent-v2", tcVectors[0].s},
	} {
		h := http.Header{"Cookie": {"sessionid=abcdef0123456789; _ga=GA1.2.123.456; " + bc.cookie + "=" + bc.value}}
		cfg := Config{Sources: []Source{{Name: bc.source}}}
		if st := r.Read(h, cfg); st.Signals.String() == "none" {
			b.Fatalf("%s: the cookie stated nothing (%s)", bc.source, st.Reason)
		}
		b.Run(bc.source, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Read(h, cfg)
			}
		})
	}
}
