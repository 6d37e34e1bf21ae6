package rules_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules"
)

func TestDefaultRules(t *testing.T) {
	r := rules.Default()
	cats := r.Categories()
	want := []rules.CategoryInfo{
		{"necessary", "Strictly necessary"},
		{"functional", "Functionality"},
		{"analytics", "Performance and analytics"},
		{"advertising", "Targeting or advertising"},
	}
	if !slices.Equal(cats, want) {
		t.Errorf("categories = %v", cats)
	}
	trackers := 0
	seen := map[string]bool{}
	for _, v := range r.Vendors() {
		if seen[v.ID] {
			t.Errorf("duplicate vendor %s", v.ID)
		}
		seen[v.ID] = true
		if v.Category != rules.Necessary {
			trackers++
		}
		if len(v.Hosts) == 0 {
			t.Errorf("vendor %s has no host", v.ID)
		}
	}
	if trackers < 25 {
		t.Errorf("%d tracker vendors, want >= 25", trackers)
	}
	for id, cat := range map[string]rules.Category{
		"google-analytics": rules.Analytics, "google-ads": rules.Advertising, "facebook": rules.Advertising,
		"intercom": rules.Analytics, "hotjar": rules.Analytics, "clarity": rules.Analytics,
		"segment": rules.Analytics, "mixpanel": rules.Analytics, "amplitude": rules.Analytics,
		"heap": rules.Analytics, "matomo-cloud": rules.Analytics, "bing-ads": rules.Advertising,
		"linkedin-insight": rules.Advertising, "tiktok-pixel": rules.Advertising, "twitter-pixel": rules.Advertising,
		"pinterest-tag": rules.Advertising, "snap-pixel": rules.Advertising, "reddit-pixel": rules.Advertising,
		"criteo": rules.Advertising, "taboola": rules.Advertising, "outbrain": rules.Advertising,
		"quantcast": rules.Advertising, "recaptcha": rules.Necessary, "stripe": rules.Necessary,
	} {
		v, ok := r.VendorByID(id)
		if !ok || v.Category != cat {
			t.Errorf("vendor %s: %v %v", id, v, ok)
		}
	}
	fb, _ := r.VendorByID("facebook")
	if fb.Retention != "90d" || !slices.Contains(fb.Cookies, "_fbp") {
		t.Errorf("facebook = %+v", fb)
	}
	// Vendors returns copies: the rule set is immutable.
	r.Vendors()[0].Hosts[0] = "mutated.example"
	if v := r.Vendors()[0]; v.Hosts[0] == "mutated.example" {
		t.Error("Vendors exposes internal state")
	}
	if r.CategoryID(rules.Analytics) != "analytics" || r.CategoryID(9) != "" {
		t.Error("CategoryID")
	}
}

const custom = `
# operator rules
category social "Social media"   # a fifth category
category analytics "Statistics"  # rename

vendor sharethis {
    name     "ShareThis \"buttons\""
    category social
    host     platform-api.sharethis.com   BÜCHER.example. ｅｘａｍｐｌｅ.org/Path
    script   "__sharethis__" 'xyzw'
    cookie   __sharethis_cookie_test__ st_*
    retention 2w
}

vendor hotjar {                  # replace the default wholly
    category analytics
    host     hj.example.com
}
disable clarity segment
`

func TestParseCustom(t *testing.T) {
	r, err := rules.Parse("ops.rules", []byte(custom), rules.Default())
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Categories()[rules.Analytics].Name; got != "Statistics" {
		t.Errorf("rename: %q", got)
	}
	social, ok := r.CategoryByID("social")
	if !ok {
		t.Fatal("no social")
	}
	st, ok := r.VendorByID("sharethis")
	if !ok || st.Category != social || st.Name != `ShareThis "buttons"` || st.Retention != "2w" {
		t.Fatalf("sharethis = %+v", st)
	}
	wantHosts := []string{"platform-api.sharethis.com", "xn--bcher-kva.example", "example.org/path"}
	if !slices.Equal(st.Hosts, wantHosts) {
		t.Errorf("hosts = %q, want %q", st.Hosts, wantHosts)
	}
	if !slices.Equal(st.Scripts, []string{"__sharethis__", "'xyzw'"}) {
		t.Errorf("scripts = %q", st.Scripts)
	}
	hj, _ := r.VendorByID("hotjar")
	if !slices.Equal(hj.Hosts, []string{"hj.example.com"}) || hj.Name != "hotjar" || len(hj.Cookies) != 0 {
		t.Errorf("hotjar not replaced wholly: %+v", hj)
	}
	if v := r.Classify("https://static.hotjar.com/c/hotjar-1.js"); v != nil {
		t.Errorf("old hotjar host still matches: %v", v.ID)
	}
	if v := r.Classify("https://x.hj.example.com/"); v == nil || v.ID != "hotjar" {
		t.Errorf("new hotjar host: %v", v)
	}
	for _, id := range []string{"clarity", "segment"} {
		if _, ok := r.VendorByID(id); ok {
			t.Errorf("%s not disabled", id)
		}
	}
	if v := r.Classify("https://www.clarity.ms/tag/x"); v != nil {
		t.Error("disabled clarity still matches")
	}
	if v := r.Classify("https://example.org/PATH/x"); v == nil || v.ID != "sharethis" {
		t.Errorf("IDNA/fullwidth host rule: %v", v)
	}
	if v := r.Classify("https://bücher.example/"); v == nil || v.ID != "sharethis" {
		t.Errorf("unicode host: %v", v)
	}
	// The base is untouched.
	if v, ok := rules.Default().VendorByID("sharethis"); ok && v.Category == social {
		t.Error("Parse modified its base")
	}
	if _, ok := rules.Default().VendorByID("clarity"); !ok {
		t.Error("disable modified the base")
	}
}

func TestOperatorWinsTies(t *testing.T) {
	r, err := rules.Parse("ops.rules", []byte("vendor mytag {\n category functional\n host www.googletagmanager.com/gtag/js\n}\n"), rules.Default())
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Classify("https://www.googletagmanager.com/gtag/js?id=G-1"); v == nil || v.ID != "mytag" {
		t.Errorf("tie: %v", v)
	}
	// A more specific default rule still wins.
	if v := r.Classify("https://www.googletagmanager.com/gtag/js?id=AW-1"); v == nil || v.ID != "google-ads" {
		t.Errorf("specific: %v", v)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"frobnicate x", `f.rules:1: unknown directive "frobnicate"`},
		{"vendor x {\n category analytics\n host a.com\n colour blue\n}", `f.rules:4: unknown directive "colour"`},
		{"\n\nvendor x {\n category analytics\n host a.com\n", `f.rules:3: unterminated vendor block "x"`},
		{"vendor x {\n category analytics\n host a.com\nvendor y {\n}", "f.rules:1: unterminated vendor block \"x\"\nf.rules:4: vendor \"y\": missing category"},
		{`vendor x {` + "\n" + ` name "abc` + "\n}", `f.rules:2: unterminated string`},
		{`category x "a\n"`, `f.rules:1: invalid escape in string (only \" and \\)`},
		{"vendor x {\n host a.com\n}", `f.rules:1: vendor "x": missing category`},
		{"vendor x {\n category marketing\n}", `f.rules:2: unknown category "marketing"`},
		{"vendor x {\n category analytics\n host exa_mple.com\n}", `f.rules:3: invalid host "exa_mple.com": not a hostname`},
		{"vendor x {\n category analytics\n host https://a.com\n}", `f.rules:3: invalid host "https://a.com": not a hostname`},
		{"vendor x {\n category analytics\n host a..com\n}", `f.rules:3: invalid host "a..com": empty label`},
		{"vendor x {\n category analytics\n host 1.2.3\n}", `f.rules:3: invalid host "1.2.3": numeric host must be a dotted-decimal IPv4 address`},
		{"vendor x {\n category analytics\n host \"a.com/a b\"\n}", `f.rules:3: invalid host "a.com/a b": path holds a space, control, '#' or non-ASCII byte`},
		{"vendor x {\n category analytics\n host\n}", `f.rules:3: host: expected at least one value`},
		{"vendor x { {\n}", `f.rules:1: duplicate {`},
		{"vendor x {\n{\n}", `f.rules:2: duplicate {`},
		{"vendor x\n{\n}", `f.rules:1: vendor: expected an id and {`},
		{"}", `f.rules:1: unexpected "}"`},
		{"vendor x {\n category analytics\n host a.com }\n}", `f.rules:3: unexpected "}"`},
		{"disable nosuch", `f.rules:1: disable: unknown vendor "nosuch"`},
		{"vendor X {\n}", `f.rules:1: invalid vendor id "X" (want [a-z0-9][a-z0-9_-]*, at most 64 bytes)`},
		{"vendor invalid-url {\n}", `f.rules:1: vendor id "invalid-url" is reserved`},
		{"vendor late-base {\n}", `f.rules:1: vendor id "late-base" is reserved`},
		{"vendor oversize {\n}", `f.rules:1: vendor id "oversize" is reserved`},
		{"category 1x", `f.rules:1: invalid category id "1x" (want [a-z][a-z0-9_-]*, at most 64 bytes)`},
		{"category", `f.rules:1: category: expected an id and an optional name`},
		{"vendor x {\n category analytics\n category advertising\n}", `f.rules:3: duplicate category`},
		{"vendor x {\n category analytics\n script ab\n}", `f.rules:3: script signature "ab" too short (at least 4 bytes after normalisation)`},
		{"vendor x {\n category analytics\n cookie a=b\n}", `f.rules:3: invalid cookie name "a=b"`},
		{"vendor x {\n category analytics\n host a.com\n retention 3m\n}", `f.rules:4: retention: expected one value like 90d, 4w or 2y`},
		{"vendor x {\n category analytics\n}", `f.rules:3: vendor "x": no host, path, script or cookie`},
	}
	for _, tt := range tests {
		_, err := rules.Parse("f.rules", []byte(tt.src), nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q)\n got  %v\n want %s", tt.src, err, tt.want)
		}
	}
	var many strings.Builder
	for i := range 29 {
		many.WriteString("category c" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "\n")
	}
	if _, err := rules.Parse("f.rules", []byte(many.String()), nil); err == nil || err.Error() != "f.rules:29: too many categories (at most 32)" {
		t.Errorf("too many categories: %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.rules")
	b := filepath.Join(dir, "b.rules")
	os.WriteFile(a, []byte("vendor mine {\n category analytics\n host stats.example\n}\n"), 0o600)
	os.WriteFile(b, []byte("disable mine\n"), 0o600)
	r, err := rules.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Classify("https://stats.example/x"); v == nil || v.ID != "mine" {
		t.Errorf("a: %v", v)
	}
	if _, ok := r.VendorByID("facebook"); !ok {
		t.Error("Load lost the defaults")
	}
	r, err = rules.Load(a, b)
	if err != nil || r.Classify("https://stats.example/x") != nil {
		t.Errorf("a, b: %v", err)
	}
	if _, err := rules.Load(b); err == nil || err.Error() != b+`:1: disable: unknown vendor "mine"` {
		t.Errorf("order: %v", err)
	}
	missing := filepath.Join(dir, "missing.rules")
	if _, err := rules.Load(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("read error does not name the file: %v", err)
	}
}

// TestParseEveryError: a file with several mistakes reports each, in order,
// with a suggestion for a near miss, and a bad line does not make its
// block report more.
func TestParseEveryError(t *testing.T) {
	src := "vendor a {\n categroy analytics\n host a.example\n}\n" +
		"vendor b {\n category analytic\n host b.example\n}\n" +
		"vendor c {\n category analytics\n hots c.example\n}\n" +
		"disable hotjr\n" +
		"vendr d {\n"
	_, err := rules.Parse("f.rules", []byte(src), rules.Default())
	want := []string{
		`f.rules:2: unknown directive "categroy" (did you mean "category"?)`,
		`f.rules:6: unknown category "analytic" (did you mean "analytics"?)`,
		`f.rules:11: unknown directive "hots" (did you mean "host"?)`,
		`f.rules:13: disable: unknown vendor "hotjr" (did you mean "hotjar"?)`,
		`f.rules:14: unknown directive "vendr" (did you mean "vendor"?)`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("got\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
}
