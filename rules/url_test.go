package rules

import (
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

const testPage = "https://shop.example/dir/page.html"

// urlTests: how a browser reads a loading attribute, and what that loads. want
// is the blocked vendor for a visitor who granted necessary only ("" = not
// blocked).
var urlTests = []struct {
	base, raw, want string
}{
	// Relative URLs stay on the page's host.
	{"", "/static/app.js", ""},
	{"", "app.js", ""},
	{"", "../img/x.png?v=1#f", ""},
	{"", "?q=1", ""},
	{"", "#top", ""},
	{"", "./connect.facebook.net/fbevents.js", ""},
	{"", "connect.facebook.net/en_US/fbevents.js", ""}, // a relative path, not a host
	// Absolute and scheme-relative.
	{"", "https://www.google-analytics.com/analytics.js", "google-analytics"},
	{"", "http://www.google-analytics.com/ga.js", "google-analytics"},
	{"", "https://ssl.google-analytics.com/ga.js", "google-analytics"},
	{"", "https://region1.google-analytics.com/g/collect?v=2", "google-analytics"},
	{"", "//connect.facebook.net/en_US/fbevents.js", "facebook"},
	{"", "//www.googletagmanager.com/gtm.js?id=GTM-X", "google-analytics"},
	{"", "wss://nexus-websocket-a.intercom.io/pubsub", "intercom"},
	{"", "https://widget.intercom.io/widget/abc123", "intercom"},
	{"", "https://js.intercomcdn.com/shim.latest.js", "intercom"},
	{"", "https://static.hotjar.com/c/hotjar-1.js?sv=6", "hotjar"},
	{"", "https://www.clarity.ms/tag/abc", "clarity"},
	{"", "https://cdn.segment.com/analytics.js/v1/KEY/analytics.min.js", "segment"},
	{"", "https://cdn.matomo.cloud/shop.matomo.cloud/matomo.js", "matomo-cloud"},
	{"", "https://bat.bing.com/bat.js", "bing-ads"},
	{"", "https://px.ads.linkedin.com/collect/?pid=1", "linkedin-insight"},
	{"", "https://analytics.tiktok.com/i18n/pixel/events.js", "tiktok-pixel"},
	{"", "https://t.co/i/adsct?txn_id=x", "twitter-pixel"},
	{"", "https://t.co/AbCdEf", ""},
	{"", "https://s.pinimg.com/ct/core.js", "pinterest-tag"},
	{"", "https://s.pinimg.com/images/logo.png", ""},
	{"", "https://www.redditstatic.com/ads/pixel.js", "reddit-pixel"},
	{"", "https://www.redditstatic.com/desktop2x/img/favicon.png", ""},
	{"", "https://sc-static.net/scevent.min.js", "snap-pixel"},
	// Shared hosts: the path decides.
	{"", "https://www.facebook.com/tr?id=1&ev=PageView&noscript=1", "facebook"},
	{"", "https://www.facebook.com/TR?id=1", "facebook"}, // ASCII case-insensitive path
	{"", "https://facebook.com/tr/", "facebook"},
	{"", "https://www.facebook.com/plugins/like.php?href=x", "facebook"},
	{"", "https://www.facebook.com/yourpage", ""},
	{"", "https://www.facebook.com/", ""},
	{"", "https://www.google.com/recaptcha/api.js", ""}, // necessary: never blocked
	{"", "https://www.google.com/pagead/1p-user-list/1/?x", "google-ads"},
	{"", "https://www.google.com/", ""},
	{"", "https://www.google.com/maps/embed?pb=x", "google-maps"},
	{"", "https://www.gstatic.com/recaptcha/releases/x/recaptcha__en.js", ""},
	{"", "https://www.gstatic.com/images/branding/x.png", ""},
	{"", "https://fonts.googleapis.com/css2?family=Inter", "google-fonts"},
	{"", "https://js.stripe.com/v3/", ""},
	{"", "https://www.googletagmanager.com/gtag/js?id=G-ABC123", "google-analytics"},
	{"", "https://www.googletagmanager.com/gtag/js?id=AW-987654321", "google-ads"},
	{"", "https://www.googletagmanager.com/gtag/js?id=aw-987654321", "google-ads"},
	{"", "https://www.googletagmanager.com/gtag/js?l=dataLayer&id=AW-1", "google-ads"}, // the id anywhere in the query
	{"", "https://www.googletagmanager.com/ns.html?id=GTM-X", "google-analytics"},
	{"", "https://googleads.g.doubleclick.net/pagead/viewthroughconversion/1/", "google-ads"},
	{"", "https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js", "google-ads"},
	// Browser reading: case, dots, userinfo, backslashes, whitespace.
	{"", "HTTPS://WWW.GOOGLE-ANALYTICS.COM/analytics.js", "google-analytics"},
	{"", "https://Connect.Facebook.NET/x.js", "facebook"},
	{"", "https://www.google-analytics.com./analytics.js", "google-analytics"},
	{"", "https://cdn.example@connect.facebook.net/x.js", "facebook"},
	{"", "https://connect.facebook.net@cdn.example/x.js", ""},
	{"", "https://user:pw@connect.facebook.net:443/x.js", "facebook"},
	{"", `https:\\connect.facebook.net\en_US\fbevents.js`, "facebook"},
	{"", `\\connect.facebook.net/x.js`, "facebook"},
	{"", `/\connect.facebook.net/x.js`, "facebook"},
	{"", "https:/connect.facebook.net/x.js", ""},        // same scheme as the base: a path
	{"", "http:/connect.facebook.net/x.js", "facebook"}, // another special scheme: an authority
	{"", "https:connect.facebook.net/x.js", ""},         // relative to an https base: a path
	{"", "https://conn\tect.face\nbook.net/x.js", "facebook"},
	{"", "/\t/connect.facebook.net/x.js", "facebook"},
	{"", "  https://connect.facebook.net/x.js \n", "facebook"},
	{"", "\x00https://connect.facebook.net/x.js", "facebook"},
	{"", "https://%77ww.google-analytics.com/analytics.js", "google-analytics"},
	{"", "https://connect%2Efacebook%2Enet/x.js", "facebook"},
	{"", "https://ｃｏｎｎｅｃｔ．ｆａｃｅｂｏｏｋ．ｎｅｔ/x.js", "facebook"},
	{"", "https://connect。facebook。net/x.js", "facebook"},
	{"", "https://CONNECT.FACEBOOK.NET:8443/x.js", "facebook"},
	{"", "https://www.facebook.com/./tr?id=1", "facebook"},
	{"", "https://www.facebook.com/x/../tr?id=1", "facebook"},
	{"", "https://www.facebook.com/%2e/tr?id=1", "facebook"},
	// The browser sends %74 as written; the vendor's server decodes it to
	// "t", so the path rule matches as if it were decoded (RFC 3986 §6.2.2.2).
	{"", "https://www.facebook.com/%74r?id=1", "facebook"},
	{"", "https://www.facebook.com/%74%52?id=1", "facebook"},
	{"", "https://www.facebook.com/%2574r?id=1", ""}, // decoded once only
	{"", "https://www.facebook.com/t%2Fr?id=1", ""},  // "/" is reserved: not decoded
	{"", "https://www.facebook.com/t%7", ""},
	// IP addresses are normalised; none is a vendor.
	{"", "http://0x7f.0.0.1/x", ""},
	{"", "http://2130706433/x", ""},
	{"", "http://[::1]/x", ""},
	// Controls that must not match.
	{"", "https://notgoogle-analytics.com/analytics.js", ""},
	{"", "https://google-analytics.com.evil.example/analytics.js", ""},
	{"", "https://notfacebook.net/connect.facebook.net/x.js", ""},
	{"", "https://example.com/?u=https://connect.facebook.net/", ""},
	// Unparseable: blocked, because we cannot know what they load.
	{"", "http://[::1", VendorInvalidURL},
	{"", "https://exa mple.com/", VendorInvalidURL},
	{"", "https://connect.facebook.net:99999/", VendorInvalidURL},
	{"", "https://%zz.example/", VendorInvalidURL},
	{"", "http://", VendorInvalidURL},
	{"", "https://a<b.example/", VendorInvalidURL},
	// Other schemes.
	{"", "mailto:x@connect.facebook.net", ""},
	{"", "about:blank", ""},
	{"", "blob:https://connect.facebook.net/uuid", ""},
	{"", "tel:+123", ""},
	{"", "javascript:void(0)", ""},
	{"", "javascript:fbq('init','1')", "facebook"},
	{"", "JavaScript:%66bq('track','PageView')", "facebook"},
	{"", "java\tscript:fbq('init','1')", "facebook"},
	{"", "data:text/html,<script src=https://connect.facebook.net/x.js></script>", "facebook"},
	{"", "data:text/html;charset=utf-8,%3Cscript%20src%3D%22https%3A%2F%2Fconnect.facebook.net%2Fx.js%22%3E", "facebook"},
	{"", "data:text/javascript;base64,ZmJxKCdpbml0JywnMScp", "facebook"}, // fbq('init','1')
	{"", "data:application/javascript;base64 , ZmJx KCdp bml0 Jyk=", "facebook"},
	{"", "data:image/svg+xml,<svg><script href='//connect.facebook.net/x.js'/></svg>", "facebook"},
	{"", "data:,fbq('init','1')", "facebook"}, // a classic script runs whatever the type
	{"", "data:image/png;base64,iVBORw0KGgo=", ""},
	{"", "data:text/html,<p>hello</p>", ""},
	{"", "data:text/html;base64,!!!", ""}, // not base64: a network error
	// <base href> changes what relative URLs mean.
	{"https://www.googletagmanager.com/", "gtm.js?id=GTM-X", "google-analytics"},
	{"https://www.googletagmanager.com/", "//shop.example/x.js", ""},
	{"//connect.facebook.net/en_US/", "fbevents.js", "facebook"},
	{"https://www.facebook.com/", "tr?id=1", "facebook"},
	{"https://www.facebook.com/", "yourpage", ""},
	{"https://cdn.example/", "app.js", ""},
	{"http://[::1", "app.js", VendorInvalidURL},
	{"http://[::1", "https://cdn.example/app.js", ""},
	{"data:text/html,x", "app.js", VendorInvalidURL},
	{"mailto:x", "//connect.facebook.net/x.js", VendorInvalidURL},
}

func TestURL(t *testing.T) {
	r := Default()
	for _, tt := range urlTests {
		p := r.NewClassifier(testPage, 0)
		if tt.base != "" {
			p.SetBase([]byte(tt.base))
		}
		got := p.URL([]byte(tt.raw))
		if got.Vendor != tt.want || got.Block != (tt.want != "") {
			t.Errorf("base %q: URL(%q) = %+v, want vendor %q", tt.base, tt.raw, got, tt.want)
		}
		if slow := p.slowURL([]byte(tt.raw)); got != slow && tt.raw != "" {
			t.Errorf("base %q: URL(%q) = %+v, slow path %+v", tt.base, tt.raw, got, slow)
		}
		if tt.want != "" && tt.want != VendorInvalidURL {
			v, _ := r.VendorByID(tt.want)
			if got.Category != r.CategoryID(v.Category) {
				t.Errorf("URL(%q).Category = %q", tt.raw, got.Category)
			}
		}
	}
	if len(urlTests) < 60 {
		t.Errorf("only %d rows", len(urlTests))
	}
}

func TestURLConsent(t *testing.T) {
	r := Default()
	ga := []byte("https://www.google-analytics.com/analytics.js")
	bad := []byte("http://[::1")
	all := Set(0).With(Functional).With(Analytics).With(Advertising)
	for _, tt := range []struct {
		granted    Set
		ga, broken bool
	}{
		{0, true, true},
		{Set(0).With(Analytics), false, true},
		{Set(0).With(Advertising), true, true},
		{all, false, false}, // nothing denied: even unparseable URLs pass
	} {
		p := r.NewClassifier(testPage, tt.granted)
		if got := p.URL(ga).Block; got != tt.ga {
			t.Errorf("granted %b: GA blocked = %v", tt.granted, got)
		}
		if got := p.URL(bad).Block; got != tt.broken {
			t.Errorf("granted %b: invalid blocked = %v", tt.granted, got)
		}
	}
	// An invalid URL names no category: the filter strips it.
	if v := r.NewClassifier(testPage, 0).URL(bad); v.Category != "" {
		t.Errorf("invalid URL category %q", v.Category)
	}
	// A declared extra category makes "all canonical" not all.
	r2, err := Parse("x.rules", []byte("category social\n"), r)
	if err != nil {
		t.Fatal(err)
	}
	if !r2.NewClassifier(testPage, all).URL(bad).Block {
		t.Error("social denied: invalid URL not blocked")
	}
}

func TestSetBaseFirstOnly(t *testing.T) {
	p := Default().NewClassifier(testPage, 0)
	p.SetBase([]byte("https://cdn.example/"))
	p.SetBase([]byte("https://www.googletagmanager.com/"))
	if v := p.URL([]byte("gtm.js")); v.Block {
		t.Errorf("second base counted: %+v", v)
	}
	// An unparseable page URL: relative URLs cannot be resolved.
	q := Default().NewClassifier("not a url", 0)
	if v := q.URL([]byte("app.js")); v.Vendor != VendorInvalidURL {
		t.Errorf("relative against no base: %+v", v)
	}
	if v := q.URL([]byte("https://connect.facebook.net/x.js")); v.Vendor != "facebook" {
		t.Errorf("absolute against no base: %+v", v)
	}
}

// TestLateBase: a base after relative URLs or scripts is refused when it
// could send them to a vendor's host; the next base is then offered.
func TestLateBase(t *testing.T) {
	const vendor, clean = "https://www.facebook.com/", "https://cdn.example/"
	tests := []struct {
		name   string
		before func(*Classifier)
		base   string
		all    bool // every category granted
		refuse bool
	}{
		{"nothing before", func(*Classifier) {}, vendor, false, false},
		{"relative URL", func(p *Classifier) { p.URL([]byte("a.png")) }, vendor, false, true},
		{"query-only URL", func(p *Classifier) { p.URL([]byte("?x")) }, vendor, false, true},
		{"https: without slashes", func(p *Classifier) { p.URL([]byte("https:a.png")) }, vendor, false, true},
		{"script", func(p *Classifier) { p.Script([]byte("var a = 1;")) }, vendor, false, true},
		{"absolute URLs only", func(p *Classifier) { p.URL([]byte("https://cdn.example/a.png")); p.URL([]byte("//cdn.example/b.png")) }, vendor, false, false},
		{"clean base", func(p *Classifier) { p.URL([]byte("a.png")) }, clean, false, false},
		{"non-http base", func(p *Classifier) { p.URL([]byte("a.png")) }, "data:text/html,x", false, true},
		{"everything granted", func(p *Classifier) { p.URL([]byte("a.png")) }, vendor, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			granted := Set(0)
			if tt.all {
				granted = Default().AllCategories()
			}
			p := Default().NewClassifier(testPage, granted)
			tt.before(p)
			v := p.SetBase([]byte(tt.base))
			if v.Block != tt.refuse || tt.refuse && v.Vendor != VendorLateBase {
				t.Fatalf("SetBase(%q) = %+v, want refused %v", tt.base, v, tt.refuse)
			}
			if tt.refuse {
				// Refused: relative URLs keep the page's base, and the next
				// base is offered.
				if v := p.URL([]byte("tr?id=1")); v.Block {
					t.Errorf("refused base applied: %+v", v)
				}
				if v := p.SetBase([]byte(clean)); v.Block {
					t.Errorf("next base refused: %+v", v)
				}
			}
		})
	}
}

// TestURLAllocs proves the fast paths do not allocate.
func TestURLAllocs(t *testing.T) {
	p := Default().NewClassifier(testPage, 0)
	for _, raw := range []string{
		"/static/app.js?v=3",
		"img/logo.png",
		"https://cdn.shop.example/app.js",
		"https://www.google-analytics.com/analytics.js",
		"//connect.facebook.net/en_US/fbevents.js",
		"https://www.facebook.com/tr?id=1&ev=PageView",
		"https://www.googletagmanager.com/gtag/js?id=AW-1",
		"HTTPS://FONTS.GOOGLEAPIS.COM",
		"about:blank",
		"javascript:fbq('init','1')",
		"data:text/javascript;base64,ZmJxKCdpbml0JywnMScp",
	} {
		b := []byte(raw)
		if _, ok := p.fastURL(b); !ok {
			t.Errorf("%q takes the slow path", raw)
		}
		if n := testing.AllocsPerRun(100, func() { p.URL(b) }); n != 0 {
			t.Errorf("URL(%q): %v allocs", raw, n)
		}
	}
}

var _ htmlfilter.Policy = (*Classifier)(nil)

// TestLongUserinfo: the WHATWG parser we use is quadratic in the userinfo
// length; such URLs are treated as unparseable before they reach it.
func TestLongUserinfo(t *testing.T) {
	p := Default().NewClassifier(testPage, 0)
	raw := []byte("https://" + strings.Repeat("a:", 50000) + "@connect.facebook.net/x.js")
	if v := p.URL(raw); v.Vendor != VendorInvalidURL {
		t.Errorf("long userinfo: %+v", v)
	}
	ok := []byte("https://" + strings.Repeat("a", 2000) + "@connect.facebook.net/x.js")
	if v := p.URL(ok); v.Vendor != "facebook" {
		t.Errorf("2000-byte userinfo: %+v", v)
	}
	// A large data: URL with newlines (base64 wrapped at 76 columns) stays cheap
	// and is read directly.
	img := []byte("data:image/png;base64,\n" + strings.Repeat("QUJD\n", 200000))
	if v := p.URL(img); v.Block {
		t.Errorf("data image: %+v", v)
	}
}

// TestLazyPageURL: the page URL is parsed only when needed, and the answers
// are those of an eager parse.
func TestLazyPageURL(t *testing.T) {
	rs := Default()
	for _, c := range []struct {
		page, raw string
		block     bool
	}{
		{"https://shop.example/a/b", "/img/x.png", false},
		{"https://www.facebook.com/page", "/tr?id=1", true},
		{"https://www.facebook.com/page", "tr?id=1", true}, // resolves against the directory "/"
		{"https://www.facebook.com/", "tr?id=1", true},
		{"https://shop.example:8443/", "%2e%2e/x", false},
		{"https://SHOP.example/", "/x", false},
		{"https://xn--bcher-kva.example/", "//connect.facebook.net/x.js", true},
	} {
		p := rs.NewClassifier(c.page, Set(0).With(Necessary))
		if got := p.URL([]byte(c.raw)).Block; got != c.block {
			t.Errorf("%s + %s: block=%v, want %v", c.page, c.raw, got, c.block)
		}
	}
}

// TestResetPageHost: a classifier reused for pages of other hosts, and
// under other rules, reads their relative URLs as a new one would.
func TestResetPageHost(t *testing.T) {
	own, err := Parse("own.rules", []byte("vendor shoptag {\n category advertising\n host shop.example/tag\n}\n"), Default())
	if err != nil {
		t.Fatal(err)
	}
	p := new(Classifier)
	for i, c := range []struct {
		r     *Rules
		page  string
		block bool
	}{
		{Default(), "https://shop.example/a", false},
		{Default(), "https://www.facebook.com/page", true},
		{Default(), "https://shop.example/a", false},
		{own, "https://shop.example/a", true},
		{Default(), "https://shop.example/b", false},
		{own, "https://www.shop.example/a", true}, // a subdomain of the rule's host
		{own, "https://other.example/a", false},
		// Hosts too long to be remembered are looked up every time.
		{own, "https://" + strings.Repeat("a", 70) + ".shop.example/a", true},
		{own, "https://" + strings.Repeat("a", 70) + ".other.example/a", false},
		{own, "https://" + strings.Repeat("a", 70) + ".shop.example/a", true},
	} {
		p.Reset(c.r, c.page, Set(0).With(Necessary))
		raw := "/tr?id=1"
		if c.r == own {
			raw = "/tag/x.js"
		}
		got := p.URL([]byte(raw)).Block
		if want := c.r.NewClassifier(c.page, Set(0).With(Necessary)).URL([]byte(raw)).Block; got != want || got != c.block {
			t.Errorf("%d: %s + %s: block=%v, a new classifier's %v, want %v", i, c.page, raw, got, want, c.block)
		}
	}
}

// TestHostVerdictNothingRemembered: after a host too long to remember, the
// verdict has nothing remembered, not a remembered empty host.
func TestHostVerdictNothingRemembered(t *testing.T) {
	own, err := Parse("own.rules", []byte("vendor shoptag {\n category advertising\n host shop.example/tag\n}\n"), Default())
	if err != nil {
		t.Fatal(err)
	}
	var v hostVerdict
	if v.clean(own, strings.Repeat("a", 70)+".shop.example") {
		t.Fatal("a long host under the rule's host reads clean")
	}
	if want := !own.hostHasRule(nil); v.clean(own, "") != want {
		t.Errorf("the empty host after a long one reads the long one's verdict, want %v", want)
	}
}
