package rules

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	onlyNecessary = Set(1 << Necessary)
	withAnalytics = onlyNecessary.With(Analytics)
	withAds       = onlyNecessary.With(Advertising)
)

func TestCookieVendor(t *testing.T) {
	r := Default()
	for _, tt := range []struct{ name, vendor string }{
		{"_ga", "google-analytics"},
		{"_ga_ABC123", "google-analytics"},
		{"_gid", "google-analytics"},
		{"_gat_UA-1", "google-analytics"},
		{"_gcl_au", "google-ads"},
		{"_gcl_xyz", "google-ads"},
		{"_fbp", "facebook"},
		{"_fbc", "facebook"},
		// Cookies that live only on a vendor's own domain are never in a
		// site's Cookie header as the vendor's: a site's own cookie of that
		// name is the site's.
		{"fr", ""},
		{"test_cookie", ""},
		{"IDE", ""},
		{"is_returning", ""},
		{"intercom-id-abc", "intercom"},
		{"intercom-session-abc", "intercom"},
		{"intercom-device-id-abc", "intercom"},
		{"_hjSessionUser_123", "hotjar"},
		{"_hjAnything", "hotjar"},
		{"_clck", "clarity"},
		{"_uetsid", "bing-ads"},
		{"_uetfoo", "bing-ads"},
		{"_ttp", "tiktok-pixel"},
		{"li_gc", "linkedin-insight"},
		// Not tracking cookies, or not ours to touch.
		{"_GA", ""}, // names are case-sensitive
		{"ga", ""},
		{"session", ""},
		{"consent", ""},
		{"fr_lang", ""},
		{"__Secure-session", ""},
		{"_GRECAPTCHA", "recaptcha"}, // necessary: named, never removed
	} {
		got := ""
		if v := r.CookieVendor(tt.name); v != nil {
			got = v.ID
		}
		if got != tt.vendor {
			t.Errorf("CookieVendor(%q) = %q, want %q", tt.name, got, tt.vendor)
		}
	}
}

func TestFilterCookieHeader(t *testing.T) {
	r := Default()
	for _, tt := range []struct {
		name    string
		in      string
		granted Set
		want    string
		removed []string // vendors
	}{
		{"nothing to remove", "session=abc; theme=dark", onlyNecessary, "session=abc; theme=dark", nil},
		{"middle", "session=abc; _ga=GA1.2.3.4; theme=dark", onlyNecessary, "session=abc; theme=dark", []string{"google-analytics"}},
		{"first", "_ga=GA1.2.3.4; session=abc", onlyNecessary, "session=abc", []string{"google-analytics"}},
		{"last", "session=abc; _fbp=fb.1.2.3", onlyNecessary, "session=abc", []string{"facebook"}},
		{"all", "_ga=1; _gid=2;_fbp=3", onlyNecessary, "", []string{"google-analytics", "google-analytics", "facebook"}},
		{"granted category kept", "_ga=1; _fbp=2; s=3", withAnalytics, "_ga=1; s=3", []string{"facebook"}},
		{"other bytes as they were", "a=1;b=2;  _ga=x ;c=\"q\";d", onlyNecessary, "a=1;b=2;c=\"q\";d", []string{"google-analytics"}},
		{"spaces around name", "a=1;  _gcl_au =x; b=2", onlyNecessary, "a=1; b=2", []string{"google-ads"}},
		{"value with =", "_ga=a=b=c; x=1", onlyNecessary, "x=1", []string{"google-analytics"}},
		{"nameless pair kept", "justavalue; _ga=1", onlyNecessary, "justavalue", []string{"google-analytics"}},
		{"empty pairs kept", "a=1;; _ga=1; b=2", onlyNecessary, "a=1;; b=2", []string{"google-analytics"}},
		{"lookalikes kept", "_GA=1; ga=2; _gaz=3; fr_lang=en", onlyNecessary, "_GA=1; ga=2; _gaz=3; fr_lang=en", nil},
		{"intercom prefixes", "intercom-id-x1=a; intercom-session-x1=b; app=1", onlyNecessary, "app=1", []string{"intercom", "intercom"}},
		{"necessary vendor kept", "_GRECAPTCHA=x; __stripe_mid=y", onlyNecessary, "_GRECAPTCHA=x; __stripe_mid=y", nil},
		{"empty", "", onlyNecessary, "", nil},
	} {
		got, removed := r.FilterCookieHeader(tt.in, tt.granted, nil, nil)
		var vendors []string
		for _, rm := range removed {
			vendors = append(vendors, rm.Vendor)
		}
		if got != tt.want || !slices.Equal(vendors, tt.removed) {
			t.Errorf("%s: FilterCookieHeader(%q) = %q %v, want %q %v", tt.name, tt.in, got, vendors, tt.want, tt.removed)
		}
	}
	// Nothing removed: the line itself, no allocation.
	line := "session=abc; theme=dark; cart=1"
	if n := testing.AllocsPerRun(100, func() { r.FilterCookieHeader(line, onlyNecessary, nil, nil) }); n != 0 {
		t.Errorf("%v allocs for a line without tracking cookies", n)
	}
}

func TestSetCookie(t *testing.T) {
	r := Default()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	twoYears := "63072000"
	for _, tt := range []struct {
		name    string
		in      string
		granted Set
		want    string // "" = dropped
	}{
		{"denied: dropped", "_ga=GA1.2.3.4; Path=/; Domain=.shop.example; Max-Age=63072000", onlyNecessary, ""},
		{"denied, odd casing of attributes", "_fbp=fb.1.2; PATH=/; max-age=7776000; SameSite=lax", onlyNecessary, ""},
		{"denied, spaces before the name", "  _gcl_au=1.1.2; Path=/", onlyNecessary, ""},
		{"not a tracking cookie", "session=abc; Path=/; HttpOnly; Secure; Max-Age=999999999", onlyNecessary, "session=abc; Path=/; HttpOnly; Secure; Max-Age=999999999"},
		{"lookalike name", "_GA=1; Max-Age=999999999", onlyNecessary, "_GA=1; Max-Age=999999999"},
		{"granted, within retention", "_ga=1; Path=/; Max-Age=3600", withAnalytics, "_ga=1; Path=/; Max-Age=3600"},
		{"granted, Max-Age over retention", "_ga=1; Path=/; Max-Age=99999999; Secure", withAnalytics, "_ga=1; Path=/; Secure; Max-Age=" + twoYears},
		{"granted, Expires over retention", "_ga=1; Expires=Fri, 01 Jan 2038 00:00:00 GMT; Path=/", withAnalytics, "_ga=1; Expires=Fri, 01 Jan 2038 00:00:00 GMT; Path=/; Max-Age=" + twoYears},
		{"granted, Expires in a loose format", "_ga=1; expires=2038-01-01 00:00:00", withAnalytics, "_ga=1; expires=2038-01-01 00:00:00"}, // not a cookie-date: session cookie to the browser
		{"granted, Expires loose but valid", "_ga=1; expires=1 jan 2038 00:00:00", withAnalytics, "_ga=1; expires=1 jan 2038 00:00:00; Max-Age=" + twoYears},
		{"granted, Expires within retention", "_ga=1; Expires=Sat, 28 Nov 2026 13:00:00 GMT", withAnalytics, "_ga=1; Expires=Sat, 28 Nov 2026 13:00:00 GMT"},
		{"facebook: 90 days", "_fbp=fb.1; Max-Age=31536000", withAds, "_fbp=fb.1; Max-Age=7776000"},
		{"deletion not revived (Max-Age 0)", "_ga=; Max-Age=0", withAnalytics, "_ga=; Max-Age=0"},
		{"deletion not revived (past Expires)", "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT", withAnalytics, "_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"},
		{"session cookie stays one", "_ga=1; Path=/", withAnalytics, "_ga=1; Path=/"},
		{"Max-Age wins over a far Expires", "_ga=1; Max-Age=60; Expires=Fri, 01 Jan 2100 00:00:00 GMT", withAnalytics, "_ga=1; Max-Age=60; Expires=Fri, 01 Jan 2100 00:00:00 GMT"},
		{"two Max-Age, the last counts", "_ga=1; Max-Age=60; Max-Age=999999999", withAnalytics, "_ga=1; Max-Age=" + twoYears},
		{"invalid Max-Age ignored", "_ga=1; Max-Age=1e9", withAnalytics, "_ga=1; Max-Age=1e9"},
		{"nameless", "novalue; Max-Age=999999999", onlyNecessary, "novalue; Max-Age=999999999"},
	} {
		got, drop, _ := r.SetCookie(tt.in, tt.granted, nil, now)
		if drop {
			got = ""
		}
		if got != tt.want {
			t.Errorf("%s: SetCookie(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
		if tt.want != "" && got != tt.in {
			// A rewritten header must still parse, to the same cookie.
			h := http.Header{"Set-Cookie": {got}}
			c := (&http.Response{Header: h}).Cookies()
			if len(c) != 1 || c[0].MaxAge <= 0 {
				t.Errorf("%s: %q does not parse as a persistent cookie: %v", tt.name, got, c)
			}
		}
	}
}

func TestParseCookieDate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // RFC 3339, "" = not a date
	}{
		{"Fri, 01 Jan 2038 00:00:00 GMT", "2038-01-01T00:00:00Z"},
		{"Friday, 01-Jan-38 00:00:00 GMT", "2038-01-01T00:00:00Z"}, // RFC 850
		{"Fri Jan  1 00:00:00 2038", "2038-01-01T00:00:00Z"},       // asctime
		{"1 january 70 1:2:3", "1970-01-01T01:02:03Z"},
		{"Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z"},
		{"31 Feb 2030 00:00:00", ""},
		{"01 Jan 2038", ""},          // no time
		{"00:00:00 Jan 2038", ""},    // no day
		{"01 Jan 1600 00:00:00", ""}, // before 1601
		{"01 Foo 2038 00:00:00", ""},
		{"01 Jan 2038 24:00:00", ""},
		{"2038-01-01T00:00:00Z", ""},
		{"", ""},
	} {
		got := ""
		if d, ok := parseCookieDate(tt.in); ok {
			got = d.Format(time.RFC3339)
		}
		if got != tt.want {
			t.Errorf("parseCookieDate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// testClickIDs are the click ids of the ad platforms most sites run.
var testClickIDs = []string{"gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "ttclid", "li_fat_id", "twclid", "epik"}

// TestRulesParams: the database's parameters go while their vendor's
// category is denied, and only then; one that vendors of two categories
// read goes unless both are granted; the operator's extra names are
// advertising's.
func TestRulesParams(t *testing.T) {
	r, err := Parse("t.rules", []byte(`
vendor stats-a {
    category analytics
    host     stats-a.example
    param    shared_id sa_*
}
vendor ads-b {
    category advertising
    host     ads-b.example
    param    shared_id
}
`), Default())
	if err != nil {
		t.Fatal(err)
	}
	p := r.Params([]string{"my_click"})
	const q = "q=1&gclid=a&_gl=b&shared_id=c&sa_x=d&my_click=e&fbclid=f"
	ana, ads := Set(0).With(Analytics), Set(0).With(Advertising)
	for _, tt := range []struct {
		granted Set
		want    string
	}{
		{0, "q=1"},
		{ana, "q=1&_gl=b&sa_x=d"},
		{ads, "q=1&gclid=a&my_click=e&fbclid=f"},
		{ana | ads, q},
	} {
		if got, _ := p.StripDenied(q, tt.granted.With(Necessary)); got != tt.want {
			t.Errorf("granted %b: %q, want %q", tt.granted, got, tt.want)
		}
	}
	if p.Denies(r.AllCategories()) || !p.Denies(ana) {
		t.Error("Denies disagrees with what StripDenied removes")
	}
	for _, id := range testClickIDs {
		if got, n := Default().Params(nil).Strip(id + "=1"); got != "" || n != 1 {
			t.Errorf("the default vendors do not list %s", id)
		}
	}
}

func TestParamsStrip(t *testing.T) {
	def := NewParams(testClickIDs)
	utm := NewParams(append(slices.Clone(testClickIDs), "utm_*"))
	for _, tt := range []struct {
		p        *Params
		in, want string
		n        int
	}{
		{def, "q=shoes&page=2", "q=shoes&page=2", 0},
		{def, "q=shoes&gclid=Cj0KCQ&page=2", "q=shoes&page=2", 1},
		{def, "gclid=Cj0KCQ", "", 1},
		{def, "gclid=a&fbclid=b&msclkid=c", "", 3},
		{def, "fbclid=IwAR1&q=x", "q=x", 1},
		{def, "q=x&ttclid=1", "q=x", 1},
		{def, "q=x&GCLID=1&gcl%69d=2&Gbraid=3", "q=x", 3},
		{def, "gclid", "", 1}, // no value is still the name
		{def, "xgclid=1&gclidx=2&q=gclid", "xgclid=1&gclidx=2&q=gclid", 0},
		{def, "li_fat_id=1&twclid=2&epik=3&dclid=4&wbraid=5&gbraid=6", "", 6},
		{def, "utm_source=news&q=x", "utm_source=news&q=x", 0},
		{utm, "utm_source=news&utm_medium=mail&q=x&gclid=1", "q=x", 3},
		{NewParams(nil), "gclid=1", "gclid=1", 0},

		// Pairs are split at '&' only: the ';' text is part of a value to
		// the origin, so it stays, and nothing becomes a new pair.
		{def, "a=1;gclid=2;b=3", "a=1;gclid=2;b=3", 0},
		{def, "note=hello;gclid=1", "note=hello;gclid=1", 0},
		{def, "a=1;b=2&gclid=x&c=3;d", "a=1;b=2&c=3;d", 1},
		// A removed pair takes one adjacent '&' with it, nothing else.
		{def, "a=1&gclid=x&b=2", "a=1&b=2", 1},
		{def, "gclid=x&a=1", "a=1", 1},
		{def, "a=1&gclid=x", "a=1", 1},
		{def, "a=1&&gclid=x&&b", "a=1&&&b", 1},
		{def, "a=1&&gclid=2&", "a=1&&", 1},
		{def, "&gclid=x", "", 1},
		{def, "gclid=x&", "", 1},
		{def, "&&", "&&", 0},
		{def, "gclid=1&fbclid=2&a=%26&b=+", "a=%26&b=+", 2},
		// Array suffixes, as PHP and Rack read them.
		{def, "gclid[]=x&a=1", "a=1", 1},
		{def, "a=1&gclid[0]=x&GCLID[a][b]=y", "a=1", 2},
		{def, "gclid%5B%5D=x&a=1", "a=1", 1},
		{def, "gclid%5b=x&a=1", "a=1", 1},                         // Rack: the name ends at the first '['
		{def, "gclid[" + strings.Repeat("x", 200) + "]=1", "", 1}, // however long the index
		{def, "[gclid]=1", "[gclid]=1", 0},
		// PHP's name mangling: '.' and ' ' become '_', leading spaces go, a
		// NUL ends the name, an unclosed '[' becomes '_'.
		{def, "li.fat.id=1&a=1", "a=1", 1},
		{def, "li+fat%20id=1&a=1", "a=1", 1},
		{def, "li[fat.id=1&a=1", "a=1", 1},
		{def, "+gclid=1&a=1", "a=1", 1},
		{def, strings.Repeat("%20", 100) + "gclid=1&a=1", "a=1", 1},
		{def, "gclid%00junk=1&a=1", "a=1", 1},
		{def, "g.clid=1&li_fat.id[x=1", "g.clid=1&li_fat.id[x=1", 0},
		{utm, "utm.source=1&" + "utm_" + strings.Repeat("x", 300) + "=1&q", "q", 2},
		// Decoded once only: a double-encoded name is not the name.
		{def, "gcl%2569d=1", "gcl%2569d=1", 0},
	} {
		got, n := tt.p.Strip(tt.in)
		if got != tt.want || n != tt.n {
			t.Errorf("Strip(%q) = %q, %d; want %q, %d", tt.in, got, n, tt.want, tt.n)
		}
	}
}

// TestParamsStripLenient: for text only read (a logged URI), ';' separates
// too, and the separators left stay as sent.
func TestParamsStripLenient(t *testing.T) {
	def := NewParams(testClickIDs)
	for _, tt := range []struct {
		in, want string
		n        int
	}{
		{"a=1;gclid=2;b=3", "a=1;b=3", 1},
		{"note=hello;gclid=1", "note=hello", 1},
		{"gclid=1;a=1&b=2", "a=1&b=2", 1},
		{"a=1&gclid=2;b", "a=1&b", 1},
		{"q=1", "q=1", 0},
		{"gclid=1;fbclid=2", "", 2},
	} {
		got, n := def.StripLenient(tt.in)
		if got != tt.want || n != tt.n {
			t.Errorf("StripLenient(%q) = %q, %d; want %q, %d", tt.in, got, n, tt.want, tt.n)
		}
	}
}

// TestParamsStripAllocs: a query without click ids costs no allocation;
// one with them costs the new query.
func TestParamsStripAllocs(t *testing.T) {
	p := NewParams(append(slices.Clone(testClickIDs), "utm_*"))
	keep := "q=shoes&page=2&sort=price%5Basc%5D&li.fat=1&x[]=2&" + strings.Repeat("long", 40) + "=1"
	if a := testing.AllocsPerRun(100, func() { p.Strip(keep) }); a != 0 {
		t.Errorf("Strip of a query without click ids: %v allocations", a)
	}
	with := keep + "&gclid=1"
	if a := testing.AllocsPerRun(100, func() { p.Strip(with) }); a > 2 {
		t.Errorf("Strip removing one click id: %v allocations", a)
	}
}
