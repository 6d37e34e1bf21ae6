package rules

import (
	"testing"
)

// urlFormTests are the spellings of a rule's path that a vendor's server
// routes to the same endpoint, as a page carries them (attribute values,
// character references decoded), and controls that name other paths. want
// is the vendor blocked for a visitor who granted necessary only.
var urlFormTests = []struct {
	name, url, want string
}{
	// Host rule www.facebook.com/tr.
	{"plain", "https://www.facebook.com/tr?id=1&ev=PageView", "facebook"},
	{"empty first segment", "https://www.facebook.com//tr?id=1&ev=PageView", "facebook"},
	{"empty segments", "https://www.facebook.com///tr?id=1&ev=PageView", "facebook"},
	{"protocol-relative, empty segment", "//www.facebook.com//tr?id=1&ev=PageView", "facebook"},
	{"trailing slash", "https://www.facebook.com/tr/?id=1&ev=PageView", "facebook"},
	{"trailing empty segments", "https://www.facebook.com/tr//?id=1&ev=PageView", "facebook"},
	{"no query", "https://www.facebook.com/tr", "facebook"},
	{"path parameter", "https://www.facebook.com/tr;jsessionid=1?id=1&ev=PageView", "facebook"},
	{"parameter-only segment", "https://www.facebook.com/;x/tr?id=1&ev=PageView", "facebook"},
	{"encoded slash", "https://www.facebook.com/%2Ftr?id=1&ev=PageView", "facebook"},
	{"encoded slash, lowercase hex", "https://www.facebook.com/%2ftr?id=1&ev=PageView", "facebook"},
	{"encoded backslash", "https://www.facebook.com/%5Ctr?id=1&ev=PageView", "facebook"},
	{"trailing encoded slash", "https://www.facebook.com/tr%2F?id=1&ev=PageView", "facebook"},
	{"encoded unreserved", "https://www.facebook.com/t%72?id=1&ev=PageView", "facebook"},
	{"encoded unreserved, mixed case", "https://www.facebook.com/%54%72?id=1&ev=PageView", "facebook"},
	{"mixed case", "https://WWW.Facebook.COM/Tr?id=1&ev=PageView", "facebook"},
	{"dot segment", "https://www.facebook.com/./tr?id=1&ev=PageView", "facebook"},
	{"dot-dot segment", "https://www.facebook.com/x/../tr?id=1&ev=PageView", "facebook"},
	{"encoded dot-dot", "https://www.facebook.com/x/%2e%2E/tr?id=1&ev=PageView", "facebook"},
	{"dot-dot before encoded slash", "https://www.facebook.com/x/..%2Ftr?id=1&ev=PageView", "facebook"},
	{"dot-dot with parameter", "https://www.facebook.com/x/..;/tr?id=1&ev=PageView", "facebook"},
	{"backslash", `https://www.facebook.com\tr?id=1&ev=PageView`, "facebook"},
	{"under the path", "https://www.facebook.com/tr/x?id=1", "facebook"},
	// Controls: other paths on the same host.
	{"longer name", "https://www.facebook.com/transparency_report.png", ""},
	{"longer name 2", "https://www.facebook.com/track", ""},
	{"extension", "https://www.facebook.com/tr.gif", ""},
	{"not at the start", "https://www.facebook.com/x/tr?id=1", ""},
	{"split name", "https://www.facebook.com/t%2Fr?id=1", ""},
	{"encoded query", "https://www.facebook.com/tr%3Fid=1", ""},
	{"double-encoded slash", "https://www.facebook.com/%252Ftr?id=1", ""},
	{"popped", "https://www.facebook.com/tr/..%2Fx", ""},
	{"page", "https://www.facebook.com/yourpage", ""},
	// A host rule with a query prefix: the parameter anywhere in the query.
	{"tag id first", "https://www.googletagmanager.com/gtag/js?id=AW-123", "google-ads"},
	{"tag id later", "https://www.googletagmanager.com/gtag/js?l=dataLayer&id=AW-123", "google-ads"},
	{"tag id, trailing slash", "https://www.googletagmanager.com/gtag//js/?id=AW-123", "google-ads"},
	{"analytics tag id", "https://www.googletagmanager.com/gtag/js?l=dataLayer&id=G-123", "google-analytics"},
	// A host rule ending in a package name: npm CDNs add "@version".
	{"package at version", "https://cdn.jsdelivr.net/npm/countly-sdk-web@23.6.0/lib/countly.min.js", "countly"},
	{"package", "https://cdn.jsdelivr.net/npm/countly-sdk-web/lib/countly.min.js", "countly"},
	{"package, empty segment", "https://cdn.jsdelivr.net/npm//countly-sdk-web@23/lib/countly.min.js", "countly"},
	{"other package", "https://cdn.jsdelivr.net/npm/countly-sdk-webx@1/x.js", ""},
	// Path rules (the Google tag served first-party) on a host no rule names.
	{"first-party tag", "https://shop.example/gtm.js?id=GTM-AB12", "google-analytics"},
	{"first-party tag, empty segment", "https://shop.example//gtm.js?id=GTM-AB12", "google-analytics"},
	{"first-party tag, trailing slash", "https://shop.example/gtm.js/?id=GTM-AB12", "google-analytics"},
	{"first-party tag, parameter", "https://shop.example/gtm.js;v=1?id=GTM-AB12", "google-analytics"},
	{"first-party tag, encoded slash", "https://shop.example/tags%2Fgtm.js?id=GTM-AB12", "google-analytics"},
	{"relative tag, trailing slash", "/gtm.js/?id=GTM-AB12", "google-analytics"},
	{"relative tag, parameter", "/gtm.js;v=1?id=GTM-AB12", "google-analytics"},
	{"relative collect, empty segment", "/g//collect?v=2&tid=G-1", "google-analytics"},
	{"relative collect, trailing slash", "/g/collect/?v=2", "google-analytics"},
	{"relative collect, case", "/G/Collect?v=2", "google-analytics"},
	{"relative collect, encoded slash", "/g%2Fcollect?v=2", "google-analytics"},
	{"relative collect, popped segment", "/x/..%2Fg/collect?v=2", "google-analytics"},
	{"relative collect, document-relative", "g/collect/?v=2", "google-analytics"},
	{"relative collect, longer name", "/g/collecting?v=2", ""},
	{"relative collect, other parent", "/xg/collect?v=2", ""},
	{"relative collect, under it", "/g/collect/x?v=2", ""},
	{"relative collect, popped away", "/g/collect/..%2F?v=2", ""},
}

// TestURLForms: every spelling a vendor's server takes for a rule's path
// matches the rule, through the fast paths, the WHATWG parser and Classify
// alike, and only at a segment boundary.
func TestURLForms(t *testing.T) {
	r := Default()
	for _, tt := range urlFormTests {
		p := r.NewClassifier("https://shop.example/p/", 0)
		got := p.URL([]byte(tt.url))
		if got.Vendor != tt.want || got.Block != (tt.want != "") {
			t.Errorf("%s: %s: %+v, want %q", tt.name, tt.url, got, tt.want)
		}
		if slow := p.slowURL([]byte(tt.url)); slow != got {
			t.Errorf("%s: %s: fast %+v, slow %+v", tt.name, tt.url, got, slow)
		}
	}
}

// TestCanonPath: the canonical form, and that isCanonPath takes exactly the
// paths canonPath leaves as they are.
func TestCanonPath(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"//", "/"},
		{"/tr", "/tr"},
		{"//tr//", "/tr"},
		{"/TR;a=1/", "/tr"},
		{"/a/%2E%2e/b", "/b"},
		{"/a/..%2f..%2F..%2Fb", "/b"},
		{"/a%5Cb%2fc", "/a/b/c"},
		{"/a/b/..", "/a"},
		{"/..", "/"},
		{"/%7euser/%41", "/~user/a"},
		{"/%3B/%3f", "/%3b/%3f"},
		{"/a/.b/..c", "/a/.b/..c"},
		{"/a/./b/.", "/a/b"},
		{"/a;/..;/b", "/b"},
	} {
		got := string(canonPath(nil, []byte(tt.in)))
		if got != tt.want {
			t.Errorf("canonPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if isCanonPath([]byte(tt.in)) != (tt.in == got) {
			t.Errorf("isCanonPath(%q) = %v, canonPath gives %q", tt.in, !(tt.in == got), got)
		}
		if again := string(canonPath(nil, []byte(got))); again != got {
			t.Errorf("canonPath(%q) = %q: not idempotent", got, again)
		}
	}
}

// TestHostRulePrefix: a host rule ending in '*' (a tracker list's text found
// anywhere in a URL) takes any path starting with it, in canonical form.
func TestHostRulePrefix(t *testing.T) {
	r, err := Parse("t.rules", []byte(`
vendor px {
    category advertising
    host     px.example/pixel* px.example/api/v1?k=* px.example/tag
}
`), Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ url, want string }{
		{"https://px.example/pixel.gif", "px"},
		{"https://px.example//Pixel%2Egif", "px"},
		{"https://px.example/pixel/x", "px"},
		{"https://px.example/api/v1?a=1&k=2", "px"},
		{"https://px.example/tag?x", "px"},
		{"https://px.example/x/pixel.gif", ""},
		{"https://px.example/api/v1x?k=2", ""},
		{"https://px.example/tags", ""},
	} {
		if got := r.NewClassifier("https://shop.example/", 0).URL([]byte(tt.url)); got.Vendor != tt.want {
			t.Errorf("%s: %+v, want %q", tt.url, got, tt.want)
		}
	}
	// A tracker list's regex text keeps matching mid-segment.
	for re, want := range map[string]string{`px\.example/pixel`: "px.example/pixel*", `px\.example`: "px.example"} {
		if got, ok := literalRule(re, "px.example"); !ok || got != want {
			t.Errorf("literalRule(%q) = %q, %v; want %q", re, got, ok, want)
		}
	}
}
