package consent

import (
	"net/http"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules"
)

func FuzzParseConsent(f *testing.F) {
	for _, s := range []string{"", "analytics", "functional.analytics.advertising", `"social"`, "ANALYTICS..x", "a%2Eb", "\xff", strings.Repeat("analytics.", 500)} {
		f.Add(s)
	}
	r := fuzzReader(f)
	f.Fuzz(func(t *testing.T, v string) {
		s := r.Parse(v)
		if !s.Has(rules.Necessary) || s&^r.rules.AllCategories() != 0 {
			t.Fatalf("Parse(%q) = %b", v, s)
		}
		// FormatSet output is a fixed point.
		if r.Parse(r.rules.FormatSet(s)) != s {
			t.Fatalf("round trip of %b", s)
		}
	})
}

func FuzzCookieValues(f *testing.F) {
	f.Add("consent=analytics", "1", "consent")
	f.Add("a=b; consent=\"functional\"; consent=functional.advertising", "", "consent")
	f.Add("consent", " 1 ", "")
	f.Add(strings.Repeat("x=1;", 1100)+"consent=analytics", "1", "consent")
	f.Add("cc_cookie={\"categories\":[\"analytics\"]}; consent=social.analytics", "0", "cc_cookie")
	r := fuzzReader(f)
	f.Fuzz(func(t *testing.T, cookie, gpc, name string) {
		h := http.Header{"Cookie": strings.Split(cookie, "\n"), "Sec-Gpc": {gpc}}
		vals := CookieValues(h, name)
		for _, v := range vals {
			if strings.ContainsRune(v, ';') {
				t.Fatalf("value %q holds ';'", v)
			}
		}
		s := r.Granted(h, Config{Cookie: name, GPC: true})
		if !s.Has(rules.Necessary) || s&^r.rules.AllCategories() != 0 {
			t.Fatalf("Consent = %b", s)
		}
		if GPC(h) && s.Has(rules.Advertising) {
			t.Fatal("GPC ignored")
		}
	})
}

func BenchmarkConsent(b *testing.B) {
	r := defaultReader()
	h := http.Header{
		"Cookie":  {"_ga=GA1.2.123.456; _gid=GA1.2.789; sessionid=abcdef0123456789; consent=functional.analytics; cart=3"},
		"Sec-Gpc": {"1"},
	}
	cfg := Config{GPC: true}
	b.ReportAllocs()
	for b.Loop() {
		r.Granted(h, cfg)
	}
}

// TestConsentToolCookiesUnclaimed: no vendor rule names a consent tool's
// own record of the visitor's choice; stripping it would undo that choice.
// The names: each source's default cookie (complianz's with a category),
// the TCF's addtl_consent beside euconsent-v2 (Quantcast Choice writes both)
// and CookieYes's older cky-consent and cky-action.
func TestConsentToolCookiesUnclaimed(t *testing.T) {
	r := defaultReader()
	names := []string{"addtl_consent", "cky-consent", "cky-action", "cmplz_marketing", "cmplz_statistics", "cmplz_banner-status"}
	for _, src := range SourceNames() {
		names = append(names, DefaultSourceCookie(src))
	}
	for _, name := range names {
		if v := r.rules.CookieVendor(name); v != nil && v.Category != rules.Necessary {
			t.Errorf("CookieVendor(%q) = %s (%s), want none", name, v.ID, r.rules.CategoryID(v.Category))
		}
	}
}

func TestPolicyVersion(t *testing.T) {
	r := defaultReader()
	v1 := r.Format(withAnalytics, "6 August 2019")
	if !strings.HasPrefix(v1, "necessary.analytics._") || len(v1) != len("necessary.analytics._")+8 {
		t.Fatalf("Format = %q", v1)
	}
	if got := r.Format(0, ""); got != "necessary" {
		t.Errorf("Format(nothing) = %q", got)
	}
	h := func(v string) http.Header { return http.Header{"Cookie": {"consent=" + v}} }
	for _, tt := range []struct {
		cookie, version string
		want            rules.Set
	}{
		{v1, "6 August 2019", withAnalytics},
		{v1, "1 January 2027", onlyNecessary},          // recorded under an older version
		{v1, "", withAnalytics},                        // versions not enforced
		{"analytics", "1 January 2027", onlyNecessary}, // no marker: not recorded under it
		{"analytics", "", withAnalytics},
	} {
		got, why := r.GrantedReason(h(tt.cookie), Config{PolicyVersion: tt.version})
		if got != tt.want {
			t.Errorf("cookie %q under %q: %b (%s), want %b", tt.cookie, tt.version, got, why, tt.want)
		}
	}
}
