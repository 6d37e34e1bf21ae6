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

// TestChoiceRecordsUnderVendorPrefixes: a consent or opt-out record that a
// vendor's prefix would take (Hotjar's _hj*, Criteo's cto_*, Mixpanel's
// mp_*) is spared; the vendor's own cookies under the prefix are not, and
// a rule that names such a record exactly still takes it.
func TestChoiceRecordsUnderVendorPrefixes(t *testing.T) {
	r := Default()
	for _, name := range []string{"_hjOptOut", "_hj_opt_out", "cto_optout", "mp_optout_token", "amp_optin", "_ga_consent", "AMCV_DoNotTrack"} {
		if v := r.CookieVendor(name); v != nil {
			t.Errorf("CookieVendor(%q) = %s, want none", name, v.ID)
		}
	}
	for name, want := range map[string]string{"_hjSessionUser_123": "hotjar", "_hjid": "hotjar", "cto_bundle": "criteo", "mp_abc_mixpanel": "mixpanel"} {
		if v := r.CookieVendor(name); v == nil || v.ID != want {
			t.Errorf("CookieVendor(%q) = %v, want %s", name, v, want)
		}
	}
	rs, err := Parse("ops.rules", []byte("vendor hj-optout {\n category analytics\n cookie _hjOptOut\n}\n"), Default())
	if err != nil {
		t.Fatal(err)
	}
	if v := rs.CookieVendor("_hjOptOut"); v == nil {
		t.Error("a rule naming _hjOptOut exactly does not take it")
	}
}
