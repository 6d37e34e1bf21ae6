package consent_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/consent"
	"github.com/consentedge/consentedge/rules"
)

func set(cs ...rules.Category) rules.Set {
	s := rules.Set(0).With(rules.Necessary)
	for _, c := range cs {
		s = s.With(c)
	}
	return s
}

func TestParseConsent(t *testing.T) {
	r := consent.NewReader(rules.Default())
	F, A, D := rules.Functional, rules.Analytics, rules.Advertising
	tests := []struct {
		name, in string
		want     rules.Set
	}{
		{"empty", "", set()},
		{"necessary", "necessary", set()},
		{"functional", "functional", set(F)},
		{"analytics", "analytics", set(A)},
		{"advertising", "advertising", set(D)},
		{"two", "functional.analytics", set(F, A)},
		{"all", "necessary.functional.analytics.advertising", set(F, A, D)},
		{"any order", "advertising.functional", set(F, D)},
		{"unknown ignored", "analytics.social.marketing", set(A)},
		{"only unknown", "marketing", set()},
		{"case-insensitive", "Analytics.ADVERTISING", set(A, D)},
		{"empty segments", ".analytics..advertising.", set(A, D)},
		{"duplicates", "analytics.analytics", set(A)},
		{"quoted", `"functional.analytics"`, set(F, A)},
		{"one quote only", `"analytics`, set()},
		{"percent-encoded", "analytics%2Eadvertising", set()},
		{"space", "analytics advertising", set()},
		{"comma", "analytics,advertising", set()},
		{"json", `{"categories":["analytics"]}`, set()},
		{"non-utf8", "analytics.\xff", set()},
		{"utf8 lookalike", "аnalytics", set()}, // Cyrillic а
		{"too long", "analytics." + strings.Repeat("x", 4<<10), set()},
		{"just under bound", "analytics" + strings.Repeat(".", 4<<10-len("analytics")), set(A)},
		{"long id ignored", strings.Repeat("a", 100) + ".analytics", set(A)},
	}
	for _, tt := range tests {
		if got := r.Parse(tt.in); got != tt.want {
			t.Errorf("%s: Parse(%.40q) = %s, want %s", tt.name, tt.in, r.Rules().FormatSet(got), r.Rules().FormatSet(tt.want))
		}
	}
}

func TestParseConsentCustomCategory(t *testing.T) {
	rs, err := rules.Parse("x.rules", []byte("category social \"Social media\"\n"), rules.Default())
	if err != nil {
		t.Fatal(err)
	}
	r := consent.NewReader(rs)
	social, ok := r.Rules().CategoryByID("social")
	if !ok || social != 4 {
		t.Fatalf("CategoryByID(social) = %d, %v", social, ok)
	}
	if got := r.Parse("social.analytics"); got != set(rules.Analytics, social) {
		t.Errorf("got %s", r.Rules().FormatSet(got))
	}
	if got := consent.NewReader(rules.Default()).Parse("social.analytics"); got != set(rules.Analytics) {
		t.Errorf("default knows social: %s", r.Rules().FormatSet(got))
	}
}

func TestFormatSet(t *testing.T) {
	r := consent.NewReader(rules.Default())
	for _, tt := range []struct {
		s    rules.Set
		want string
	}{
		{0, ""},
		{set(), "necessary"},
		{set(rules.Advertising, rules.Analytics), "necessary.analytics.advertising"},
		{set(rules.Functional) | 1<<20, "necessary.functional"}, // undeclared bit ignored
	} {
		if got := r.Rules().FormatSet(tt.s); got != tt.want {
			t.Errorf("FormatSet(%b) = %q, want %q", tt.s, got, tt.want)
		}
	}
	// FormatSet and Parse round-trip.
	for s := rules.Set(0); s < 16; s++ {
		want := s.With(rules.Necessary)
		if got := r.Parse(r.Rules().FormatSet(s)); got != want {
			t.Errorf("round trip %b: got %b", s, got)
		}
	}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestConsent(t *testing.T) {
	r := consent.NewReader(rules.Default())
	F, A, D := rules.Functional, rules.Analytics, rules.Advertising
	many := strings.Repeat("x=1; ", 1200) + "consent=analytics"
	manyBefore := "consent=analytics; " + strings.Repeat("x=1; ", 1200)
	huge := "consent=analytics; big=" + strings.Repeat("v", 70<<10)
	tests := []struct {
		name string
		h    http.Header
		cfg  consent.Config
		want rules.Set
	}{
		{"no headers", hdr(), consent.Config{}, set()},
		{"no consent cookie", hdr("Cookie", "a=b; c=d"), consent.Config{}, set()},
		{"empty value", hdr("Cookie", "consent="), consent.Config{}, set()},
		{"one", hdr("Cookie", "a=b; consent=analytics; c=d"), consent.Config{}, set(A)},
		{"all", hdr("Cookie", "consent=functional.analytics.advertising"), consent.Config{}, set(F, A, D)},
		{"spaces and tabs", hdr("Cookie", "a=b;\tconsent = analytics \t;c=d"), consent.Config{}, set(A)},
		{"name is case-sensitive", hdr("Cookie", "Consent=analytics"), consent.Config{}, set()},
		{"prefix name", hdr("Cookie", "myconsent=analytics"), consent.Config{}, set()},
		{"garbage", hdr("Cookie", "consent=%7B%22a%22%7D"), consent.Config{}, set()},
		{"garbage other cookies ok", hdr("Cookie", `cc_cookie={"categories":["analytics"]}; x="a\b"; consent=analytics; y=\xff`), consent.Config{}, set(A)},
		{"duplicates intersect", hdr("Cookie", "consent=functional.analytics; consent=analytics.advertising"), consent.Config{}, set(A)},
		{"duplicate garbage denies", hdr("Cookie", "consent=analytics; consent=%41"), consent.Config{}, set()},
		{"duplicates across lines", hdr("Cookie", "consent=functional.analytics", "Cookie", "consent=analytics"), consent.Config{}, set(A)},
		{"several lines", hdr("Cookie", "a=b", "Cookie", "consent=advertising"), consent.Config{}, set(D)},
		{"quoted", hdr("Cookie", `consent="functional"`), consent.Config{}, set(F)},
		{"nameless pair", hdr("Cookie", "analytics; consent=functional"), consent.Config{}, set(F)},
		{"custom name", hdr("Cookie", "consent=advertising; cmp=analytics"), consent.Config{Cookie: "cmp"}, set(A)},
		{"too many pairs", hdr("Cookie", many), consent.Config{}, set()},
		{"too many pairs after ours", hdr("Cookie", manyBefore), consent.Config{}, set()},
		{"too many bytes", hdr("Cookie", huge), consent.Config{}, set()},
		{"gpc on", hdr("Cookie", "consent=analytics.advertising", "Sec-GPC", "1"), consent.Config{GPC: true}, set(A)},
		{"gpc padded", hdr("Cookie", "consent=advertising", "Sec-GPC", " 1 "), consent.Config{GPC: true}, set()},
		{"gpc ignored when off", hdr("Cookie", "consent=analytics.advertising", "Sec-GPC", "1"), consent.Config{}, set(A, D)},
		{"gpc 0", hdr("Cookie", "consent=analytics.advertising", "Sec-GPC", "0"), consent.Config{GPC: true}, set(A, D)},
		{"gpc garbage", hdr("Cookie", "consent=advertising", "Sec-GPC", "true"), consent.Config{GPC: true}, set(D)},
		{"gpc second line", hdr("Cookie", "consent=advertising", "Sec-GPC", "0", "Sec-GPC", "1"), consent.Config{GPC: true}, set()},
	}
	for _, tt := range tests {
		if got := r.Granted(tt.h, tt.cfg); got != tt.want {
			t.Errorf("%s: Consent = %s, want %s", tt.name, r.Rules().FormatSet(got), r.Rules().FormatSet(tt.want))
		}
	}
}

func TestCookieValues(t *testing.T) {
	h := hdr("Cookie", `a=1; consent=x; b="q\"z"; consent= y ;consent=`, "Cookie", "consent=\xffz; consent")
	got := consent.CookieValues(h, "consent")
	want := []string{"x", "y", "", "\xffz"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("CookieValues = %q, want %q", got, want)
	}
	if got := consent.CookieValues(h, "b"); len(got) != 1 || got[0] != `"q\"z"` {
		t.Errorf("raw quoted value: %q", got)
	}
	if got := consent.CookieValues(hdr(), "consent"); got != nil {
		t.Errorf("no header: %q", got)
	}
}

func TestScanCookiesBounds(t *testing.T) {
	count := func(h http.Header) (int, bool) {
		n := 0
		ok := consent.ScanCookies(h, "c", func(string) bool { n++; return true })
		return n, ok
	}
	if n, ok := count(hdr("Cookie", strings.Repeat("c=1;", 1000))); n != 1000 || !ok {
		t.Errorf("1000 pairs: %d %v", n, ok)
	}
	if n, ok := count(hdr("Cookie", strings.Repeat("c=1;", 1001))); n != 1000 || ok {
		t.Errorf("1001 pairs: %d %v", n, ok)
	}
	// Thousands of cookies over several lines (HTTP/2 splits Cookie).
	h := http.Header{}
	for range 3000 {
		h.Add("Cookie", "c=1")
	}
	if n, ok := count(h); n != 1000 || ok {
		t.Errorf("3000 lines: %d %v", n, ok)
	}
	// The byte bound never yields a pair cut in the middle.
	long := strings.Repeat("c=1234567; ", 7000) // 77 KB
	var vals []string
	ok := consent.ScanCookies(hdr("Cookie", long), "c", func(v string) bool { vals = append(vals, v); return true })
	if ok {
		t.Error("byte bound not reported")
	}
	for _, v := range vals {
		if v != "1234567" {
			t.Fatalf("cut value %q", v)
		}
	}
	// Stopping early is not a bound.
	if !consent.ScanCookies(hdr("Cookie", long), "c", func(string) bool { return false }) {
		t.Error("early stop reported as bound")
	}
}

func TestConsentAllocs(t *testing.T) {
	r := consent.NewReader(rules.Default())
	h := hdr("Cookie", "_ga=GA1.2.3; consent=functional.analytics; sid=abc", "Sec-GPC", "1")
	cfg := consent.Config{GPC: true}
	if n := testing.AllocsPerRun(100, func() { r.Granted(h, cfg) }); n != 0 {
		t.Errorf("Consent allocates %v times", n)
	}
}

func TestConsentDetail(t *testing.T) {
	r := consent.NewReader(rules.Default())
	for _, c := range []struct {
		cookie string
		want   string
	}{
		{"consent=analytics", ""},
		{"", ""},
		{"consent=ana%20lytics", "malformed consent cookie: it grants nothing"},
		{"consent=analytics; consent=functional", "several consent cookies: their intersection"},
		{strings.Repeat("a=b; ", 1100) + "consent=analytics", "cookie headers over the scan bound: necessary only"},
	} {
		h := http.Header{}
		if c.cookie != "" {
			h.Set("Cookie", c.cookie)
		}
		if _, why := r.GrantedReason(h, consent.Config{}); why != c.want {
			t.Errorf("%.40q: %q, want %q", c.cookie, why, c.want)
		}
	}
}

// TestPolicyVersionMarker: with a policy version set, only a native cookie
// carrying its marker grants or counts as a decision; an unmarked one is
// treated as a stale one. Without a version, any well-formed cookie does.
func TestPolicyVersionMarker(t *testing.T) {
	r := consent.NewReader(rules.Default())
	const version = "6 August 2019"
	current := r.Format(set(rules.Analytics), version)
	older := r.Format(set(rules.Analytics), "1 May 2018")
	for _, tt := range []struct {
		name, cookie, version string
		want                  rules.Set
		decided               bool
		reason                string
	}{
		{"current marker", current, version, set(rules.Analytics), true, ""},
		{"older marker", older, version, set(), false, "consent not recorded under the current policy version: it grants nothing"},
		{"no marker", "necessary.analytics", version, set(), false, "consent not recorded under the current policy version: it grants nothing"},
		{"no marker, quoted", `"analytics"`, version, set(), false, "consent not recorded under the current policy version: it grants nothing"},
		{"no version, no marker", "necessary.analytics", "", set(rules.Analytics), true, ""},
		{"no version, a marker", older, "", set(rules.Analytics), true, ""},
	} {
		h := hdr("Cookie", "consent="+tt.cookie)
		cfg := consent.Config{PolicyVersion: tt.version}
		got, why := r.GrantedReason(h, cfg)
		if got != tt.want || why != tt.reason {
			t.Errorf("%s: %s (%q), want %s (%q)", tt.name, r.Rules().FormatSet(got), why, r.Rules().FormatSet(tt.want), tt.reason)
		}
		if d := r.Decided(h, cfg); d != tt.decided {
			t.Errorf("%s: Decided = %v, want %v", tt.name, d, tt.decided)
		}
	}
	// An unmarked cookie beside the current one can only take away, as
	// any second cookie of the name.
	h := hdr("Cookie", "consent="+current+"; consent=analytics.advertising")
	if got := r.Granted(h, consent.Config{PolicyVersion: version}); got != set() {
		t.Errorf("current and unmarked: %s", r.Rules().FormatSet(got))
	}
}

// TestHostPrefixRead: with HostPrefix the native cookie is read only under
// its exact __Host- name, for consent and for Decided; other sources keep
// their names. Reading still does not allocate.
func TestHostPrefixRead(t *testing.T) {
	r := consent.NewReader(rules.Default())
	cfg := consent.Config{HostPrefix: true}
	for _, tt := range []struct {
		cookie  string
		want    rules.Set
		decided bool
	}{
		{"__Host-consent=analytics", set(rules.Analytics), true},
		{"consent=analytics", set(), false},
		{"__host-consent=analytics", set(), false},
		{"__Host-consent=analytics; consent=advertising", set(rules.Analytics), true},
		{"__Host-consentx=analytics", set(), false},
		{"__Host-=analytics", set(), false},
	} {
		h := hdr("Cookie", tt.cookie)
		if got := r.Granted(h, cfg); got != tt.want {
			t.Errorf("%q: %s, want %s", tt.cookie, r.Rules().FormatSet(got), r.Rules().FormatSet(tt.want))
		}
		if d := r.Decided(h, cfg); d != tt.decided {
			t.Errorf("%q: Decided = %v", tt.cookie, d)
		}
	}
	h := hdr("Cookie", "__Host-site=functional.analytics; site=advertising; OptanonConsent=groups=C0002%3A1")
	custom := consent.Config{Cookie: "site", HostPrefix: true,
		Sources: []consent.Source{{Name: consent.SourceNative}, {Name: consent.SourceOneTrust}}}
	if got := r.Granted(h, custom); got != set(rules.Functional, rules.Analytics) {
		t.Errorf("custom name beside OneTrust: %s", r.Rules().FormatSet(got))
	}
	h = hdr("Cookie", "_ga=GA1.2.3; __Host-consent=functional.analytics; sid=abc")
	if n := testing.AllocsPerRun(100, func() { r.Granted(h, cfg) }); n != 0 {
		t.Errorf("Consent with HostPrefix allocates %v times", n)
	}
}
