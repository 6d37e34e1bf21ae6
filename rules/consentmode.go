package rules

import "strings"

// Google Consent Mode v2: a page that runs Google tags tells them
// what the visitor granted before any of them runs, with
// gtag('consent','default',{...}). consentedge writes that default from the
// visitor's state at the top of the head.

// GoogleTagVendors are the vendors whose tags read Consent Mode: in
// "advanced" mode they stay on the page, told what they may store.
var GoogleTagVendors = []string{"google-analytics", "google-ads"}

// ConsentModeScript returns the <script> that sets the Consent Mode
// defaults for granted: the ad types follow advertising, analytics_storage
// analytics, functionality_storage and personalization_storage functional;
// security_storage is always granted. It has no nonce: its text is fixed
// for a consent state, so a page's policy can allow it by its hash.
func ConsentModeScript(granted Set) []byte {
	state := func(c Category) string {
		if c == Necessary || granted.Has(c) {
			return "'granted'"
		}
		return "'denied'"
	}
	var b strings.Builder
	b.WriteString("<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}gtag('consent','default',{")
	for i, kv := range [...]struct {
		k string
		c Category
	}{
		{"ad_storage", Advertising}, {"ad_user_data", Advertising}, {"ad_personalization", Advertising},
		{"analytics_storage", Analytics}, {"functionality_storage", Functional},
		{"personalization_storage", Functional}, {"security_storage", Necessary},
	} {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("'" + kv.k + "':" + state(kv.c))
	}
	b.WriteString("});</script>")
	return []byte(b.String())
}
