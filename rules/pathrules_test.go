package rules

import (
	"testing"
)

// TestPathRules: a path rule names its vendor on any host, first-party and
// relative URLs included, at a segment boundary, with its parameter
// anywhere in the query, whatever the case or the escaping of unreserved
// characters; a host rule comes first.
func TestPathRules(t *testing.T) {
	r, err := Parse("t.rules", []byte(`
vendor sgtm {
    category analytics
    host     tags.vendor.example
    path     /gtm.js?id=gtm- /g/collect
}
vendor keyed {
    category analytics
    path     /loader/v1/*/loader.min.js
}
vendor kept {
    category necessary
    host     cdn.example/lib
}
`), Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		url, vendor string
	}{
		{"https://sgtm.shop.example/gtm.js?id=GTM-AB12CD", "sgtm"},
		{"https://shop.example/tags/gtm.js?l=dataLayer&id=GTM-AB12CD", "sgtm"},
		{"/gtm.js?id=GTM-AB12CD", "sgtm"},
		{"gtm.js?id=GTM-AB12CD", "sgtm"},
		{"x/GTM.JS?ID=gtm-1", "sgtm"},
		{"/gtm%2Ejs?id=GTM-1", "sgtm"},
		{"https://shop.example/g/collect?v=2&tid=G-1", "sgtm"},
		{"/mp/g/collect", "sgtm"},
		{"/sgtm/../g/collect", "sgtm"}, // the slow path resolves it
		{"/gtm.js?id=abc", ""},
		{"/gtm.js", ""},
		{"/xgtm.js?id=GTM-1", ""},
		{"/xg/collect", ""},
		{"/g/collect/x", ""},
		{"/g/collector", ""},
		{"https://cdn.example/lib/gtm.js?id=GTM-1", "kept"}, // a host rule first
		{"#gtm.js?id=GTM-1", ""},
		{"https://cdp.shop.example/loader/v1/AbC123/loader.min.js", "keyed"},
		{"/x/loader/v1/k/LOADER.MIN.JS", "keyed"},
		{"/loader/v1/loader.min.js", ""},     // * is one segment
		{"/loader/v1/a/b/loader.min.js", ""}, // and only one
		{"/loader/v1//loader.min.js", ""},    // never an empty one
		{"/loader/v2/k/loader.min.js", ""},   // the literal ones still count
		{"/xloader/v1/k/loader.min.js", ""},  // at segment boundaries
	} {
		p := r.NewClassifier("https://shop.example/p/", 0)
		got := p.URL([]byte(tt.url))
		if got.Vendor != tt.vendor && !(tt.vendor == "kept" && !got.Block) {
			t.Errorf("%s: %+v, want %q", tt.url, got, tt.vendor)
		}
		if slow := p.slowURL([]byte(tt.url)); slow != got {
			t.Errorf("%s: fast %+v, slow %+v", tt.url, got, slow)
		}
	}
	for _, bad := range []string{"gtm.js", "/a/*", "/a*/b.js", "/a/x*y/b.js"} {
		if _, err := Parse("t.rules", []byte("vendor v {\n category analytics\n path "+bad+"\n}\n"), nil); err == nil {
			t.Errorf("path rule %q was taken", bad)
		}
	}
}
