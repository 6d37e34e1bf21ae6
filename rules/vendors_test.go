package rules

import (
	"bytes"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/internal/vendorexamples"
	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// vendorExample is one snippet or URL of a vendor exactly as its
// documentation publishes it (testdata/vendors/*.txt), as the HTML that
// loads it.
type vendorExample struct {
	vendorexamples.Example
	html string
}

// readVendorExamples reads testdata/vendors/*.txt (package vendorexamples).
// A snippet that is one URL stands for a script loading it.
func readVendorExamples(t *testing.T) []vendorExample {
	t.Helper()
	read, err := vendorexamples.Read("testdata/vendors")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]vendorExample, 0, len(read))
	for _, ex := range read {
		html := ex.Text
		if !strings.ContainsAny(html, "<\n") && strings.HasPrefix(html, "http") {
			html = `<script src="` + html + `"></script>`
		}
		out = append(out, vendorExample{ex, html})
	}
	return out
}

// TestVendorExamples: every vendor of the default rules has an example as
// its documentation publishes it, and each is read as its vendor's and
// category's: removed, in whole or in part, for a visitor who granted
// nothing (unless it is strictly necessary), and untouched for one who
// granted its category.
func TestVendorExamples(t *testing.T) {
	rs := Default()
	examples := readVendorExamples(t)
	seen, published := map[string]bool{}, map[string]bool{}
	for _, ex := range examples {
		if !ex.Observed {
			published[ex.Vendor] = true
		}
		at := fmt.Sprintf("%s:%d", ex.File, ex.Line)
		v, ok := rs.VendorByID(ex.Vendor)
		if !ok {
			t.Errorf("%s: no vendor %q", at, ex.Vendor)
			continue
		}
		seen[ex.Vendor] = true
		if got := rs.CategoryID(v.Category); got != ex.Category {
			t.Errorf("%s: %s is %s, the example says %s", at, ex.Vendor, got, ex.Category)
			continue
		}
		none := filterExample(rs, ex.html, Set(0))
		if ex.Category == "necessary" {
			if len(none) > 0 {
				t.Errorf("%s: a necessary service's example lost %v", at, none)
			}
			continue
		}
		if !removedVendor(none, ex.Vendor) {
			t.Errorf("%s: %s's example is not removed as its vendor's for a visitor who granted nothing (removed: %v)", at, ex.Vendor, none)
		}
		if granted := filterExample(rs, ex.html, Set(0).With(v.Category)); removedVendor(granted, ex.Vendor) {
			t.Errorf("%s: %s's example is removed for a visitor who granted %s", at, ex.Vendor, ex.Category)
		}
	}
	for _, v := range rs.Vendors() {
		if !seen[v.ID] {
			t.Errorf("vendor %s has no example in testdata/vendors", v.ID)
		}
	}
	// Some vendors print no install code: their portals generate it. Their
	// examples are as sites carry it (observed); the rest must stay few.
	if n := len(published); n < 300 {
		t.Errorf("%d vendors have an example from their own publication, want at least 300", n)
	}
	t.Logf("%d examples of %d vendors, %d with an example from the vendor's own publication",
		len(examples), len(rs.Vendors()), len(published))
}

func filterExample(rs *Rules, html string, granted Set) []htmlfilter.Removal {
	var out bytes.Buffer
	f := htmlfilter.New(&out, rs.NewClassifier("https://www.example.com/", granted), htmlfilter.Options{})
	_, _ = f.Write([]byte("<!DOCTYPE html><html><head></head><body>" + html + "</body></html>"))
	_ = f.Close()
	return f.Removed()
}

func removedVendor(rs []htmlfilter.Removal, vendor string) bool {
	for _, r := range rs {
		if r.Vendor == vendor {
			return true
		}
	}
	return false
}

// TestVendorSources: every vendor block of the embedded rules follows a
// comment that names where its facts come from (a URL).
func TestVendorSources(t *testing.T) {
	names, _ := fs.Glob(vendorFiles, "vendors/*.rules")
	block := regexp.MustCompile(`(?m)((?:^#.*\n)*)^vendor ([a-z0-9_-]+) \{`)
	for _, name := range names {
		src, _ := vendorFiles.ReadFile(name)
		for _, m := range block.FindAllSubmatch(src, -1) {
			if !bytes.Contains(m[1], []byte("https://")) {
				t.Errorf("%s: vendor %s has no source comment (a URL) above it", name, m[2])
			}
		}
	}
}

// TestPrivacyEnhancedVariantsKept: the cookieless variant of an embed is no
// vendor's, and stays for a visitor who granted nothing, while the regular
// embed of the same video goes. The markup is YouTube's "privacy-enhanced
// mode" embed code (https://support.google.com/youtube/answer/171780).
func TestPrivacyEnhancedVariantsKept(t *testing.T) {
	rs := Default()
	const embed = `<iframe width="560" height="315" src="https://www.youtube%s.com/embed/M7lc1UVf-VE?si=Ab12Cd34Ef56Gh78" title="YouTube video player" frameborder="0" allow="accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture; web-share" referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe>`
	if removed := filterExample(rs, fmt.Sprintf(embed, "-nocookie"), Set(0)); len(removed) > 0 {
		t.Errorf("the youtube-nocookie.com embed was removed: %v", removed)
	}
	if removed := filterExample(rs, fmt.Sprintf(embed, ""), Set(0)); !removedVendor(removed, "youtube") {
		t.Errorf("the regular youtube.com embed was kept: %v", removed)
	}
}
