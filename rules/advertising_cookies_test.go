package rules

import "testing"

// TestAdvertisingCookiesSpareChoices: the advertising vendors' cookie lists
// never name a cookie that records the visitor's own choice (a consent or
// opt-out record: stripping it would undo that choice) nor a short generic
// name a site's own cookie could carry.
func TestAdvertisingCookiesSpareChoices(t *testing.T) {
	r := Default()
	for _, name := range []string{
		"__hs_cookie_cat_pref", "__hs_opt_out", "__hs_do_not_track", "__hs_initial_opt_in", // HubSpot consent records
		"ad-privacy",             // Amazon's opt-out record
		"mc",                     // a two-letter name any site may use
		"demdex", "dextp", "dst", // Adobe Audience Manager: set to "Do Not Target" on opt-out
	} {
		if v := r.CookieVendor(name); v != nil {
			t.Errorf("CookieVendor(%q) = %s, want none", name, v.ID)
		}
	}
}
