package rules

import (
	"bytes"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// TestConsentManagerBesideItsAdTag: Quantcast sells both a consent tool
// (Choice) and an advertising tag (Measure, the quantcast vendor). With
// `unclassified advertising` and nothing granted, the consent tool's loader
// stays, as does CookieYes's, while Quantcast's Measure tag, as its
// documentation publishes it, still goes as quantcast's. The loader URLs
// have the shape the vendors' portals hand out (ids made up): their public
// pages name the hosts, not the tags.
func TestConsentManagerBesideItsAdTag(t *testing.T) {
	var measure string
	for _, ex := range readVendorExamples(t) {
		if ex.Vendor == "quantcast" && strings.Contains(ex.html, "quant.js") {
			measure = ex.html
			break
		}
	}
	if measure == "" {
		t.Fatal("no quantcast Measure example in testdata/vendors")
	}
	loaders := []string{
		`<script async src="https://cmp.quantcast.com/choice/Zq3sVbNp9sAbB/www.example.com/choice.js?tag_version=V2"></script>`,
		`<script id="cookieyes" type="text/javascript" src="https://cdn-cookieyes.com/client_data/0f1e2d3c4b5a69788796a5b4/script.js"></script>`,
	}
	var out bytes.Buffer
	p := Default().NewClassifier("https://www.example.com/", 0)
	p.Unclassify(Advertising)
	f := htmlfilter.New(&out, p, htmlfilter.Options{})
	_, _ = f.Write([]byte("<!DOCTYPE html><html><head>" + strings.Join(loaders, "\n") + "</head><body>" + measure + "</body></html>"))
	_ = f.Close()
	for _, h := range []string{"cmp.quantcast.com", "cdn-cookieyes.com"} {
		if !strings.Contains(out.String(), h) {
			t.Errorf("the consent tool's loader on %s went", h)
		}
	}
	if strings.Contains(out.String(), "quant.js") {
		t.Error("Quantcast's Measure tag stayed")
	}
	for _, r := range f.Removed() {
		if r.Vendor != "quantcast" {
			t.Errorf("removed %+v, want only quantcast's", r)
		}
	}
}
