package rules

import (
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

func TestConsentModeScript(t *testing.T) {
	got := string(ConsentModeScript(Set(0).With(Analytics)))
	want := `<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}` +
		`gtag('consent','default',{'ad_storage':'denied','ad_user_data':'denied','ad_personalization':'denied',` +
		`'analytics_storage':'granted','functionality_storage':'denied','personalization_storage':'denied','security_storage':'granted'});</script>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	all := string(ConsentModeScript(Default().AllCategories()))
	if strings.Contains(all, "denied") || !strings.HasPrefix(all, "<script>") {
		t.Errorf("all granted: %s", all)
	}
}

func TestExempt(t *testing.T) {
	r := Default()
	google, err := r.VendorSet(GoogleTagVendors...)
	if err != nil {
		t.Fatal(err)
	}
	p := r.NewClassifier("https://shop.example/", 0)
	p.Exempt(google)
	for _, tt := range []struct {
		url   string
		block bool
	}{
		{"https://www.googletagmanager.com/gtag/js?id=G-1", false},
		{"https://googleads.g.doubleclick.net/pagead/viewthroughconversion/1/", false},
		{"https://connect.facebook.net/en_US/fbevents.js", true},
		{"https://static.hotjar.com/c/hotjar-1.js", true},
	} {
		if got := p.URL([]byte(tt.url)); got.Block != tt.block {
			t.Errorf("%s: %+v", tt.url, got)
		}
	}
	if v := p.Script([]byte(`gtag('config','G-1'); gtag('config','AW-2');`)); v.Block {
		t.Errorf("gtag config blocked: %+v", v)
	}
	if v := p.Script([]byte(`gtag('config','G-1'); fbq('init','1');`)); !v.Block || v.Vendor != "facebook" {
		t.Errorf("fbq kept: %+v", v)
	}
	if _, err := r.VendorSet("nope"); err == nil {
		t.Error("unknown vendor accepted")
	}
	var _ htmlfilter.Policy = p
}
