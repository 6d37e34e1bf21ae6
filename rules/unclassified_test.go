package rules

import (
	"bytes"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// TestUnclassified: with Unclassify, the third-party scripts, frames and
// pixels no rule names go while their category is denied, and stay once
// it is granted; first-party loads, named vendors (necessary ones
// included), ordinary images and links never go for it.
func TestUnclassified(t *testing.T) {
	rs := Default()
	page := `<!DOCTYPE html><html><head>
<script src="https://cdn.unknown-tracker.example/t.js"></script>
<script src="//beacon.other-analytics.example/b.js" async></script>
<script src="/static/app.js"></script>
<script src="https://static.shop.example/app.js"></script>
<script src="https://js.stripe.com/v3/"></script>
</head><body>
<iframe src="https://widgets.unknown.example/frame.html"></iframe>
<img src="https://px.unknown.example/p.gif" width="1" height="1" alt="">
<img src="https://px2.unknown.example/p.gif" style="display: NONE">
<img src="https://images.cdn.example/product.jpg" width="600" height="400" alt="product">
<a href="https://elsewhere.example/">a link</a>
</body></html>`
	gone := []string{"cdn.unknown-tracker.example", "beacon.other-analytics.example", "widgets.unknown.example", "px.unknown.example", "px2.unknown.example"}
	kept := []string{"/static/app.js", "static.shop.example", "js.stripe.com", "images.cdn.example", "elsewhere.example"}
	run := func(granted Set, unclassify bool) (string, []htmlfilter.Removal) {
		var out bytes.Buffer
		p := rs.NewClassifier("https://www.shop.example/", granted)
		if unclassify {
			p.Unclassify(Advertising)
		}
		f := htmlfilter.New(&out, p, htmlfilter.Options{})
		f.Write([]byte(page))
		f.Close()
		return out.String(), f.Removed()
	}
	out, removed := run(0, true)
	for _, h := range gone {
		if strings.Contains(out, h) {
			t.Errorf("nothing granted: %s stayed", h)
		}
	}
	for _, h := range kept {
		if !strings.Contains(out, h) {
			t.Errorf("nothing granted: %s went", h)
		}
	}
	if len(removed) != 1 || removed[0].Vendor != VendorUnclassified || removed[0].Count != len(gone) || removed[0].Category != "advertising" {
		t.Errorf("removed %+v", removed)
	}
	if out, _ := run(Set(0).With(Advertising), true); out != page {
		t.Error("advertising granted: the page changed")
	}
	if out, _ := run(0, false); out != page {
		t.Error("without Unclassify: the page changed")
	}
	// A base on another site makes relative sources third-party.
	p := rs.NewClassifier("https://www.shop.example/", 0)
	p.Unclassify(Analytics)
	p.SetBase([]byte("https://cdn.elsewhere.example/"))
	if v := p.Unclassified([]byte("t.js")); !v.Block || v.Category != "analytics" {
		t.Errorf("relative source under a third-party base: %+v", v)
	}
	if v := p.Unclassified([]byte("https://sub.shop.example/t.js")); v.Block {
		t.Errorf("a subdomain of the page's site: %+v", v)
	}
}
