package rules

import (
	"bytes"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules/htmlfilter"
)

// TestNecessaryExamplesNotUnclassified: with `unclassified advertising` and
// nothing granted, every published snippet of a strictly necessary vendor
// (payments, captchas, library CDNs, platforms, and the consent managers,
// through which the visitor gives or refuses consent) stays whole, because
// the rules name its hosts; an unnamed tracker beside it goes.
func TestNecessaryExamplesNotUnclassified(t *testing.T) {
	const tracker = `<script src="https://cdn.unknown-tracker.example/t.js"></script>`
	n := 0
	for _, ex := range readVendorExamples(t) {
		if !strings.HasSuffix(ex.File, "necessary.txt") && !strings.HasSuffix(ex.File, "extra.txt") || ex.Category != "necessary" {
			continue
		}
		n++
		var out bytes.Buffer
		p := Default().NewClassifier("https://www.example.com/", 0)
		p.Unclassify(Advertising)
		f := htmlfilter.New(&out, p, htmlfilter.Options{})
		_, _ = f.Write([]byte("<!DOCTYPE html><html><head></head><body>" + ex.html + tracker + "</body></html>"))
		_ = f.Close()
		for _, r := range f.Removed() {
			if r.Vendor != VendorUnclassified || r.Count != 1 {
				t.Errorf("%s:%d: %s's snippet lost something: %+v", ex.File, ex.Line, ex.Vendor, r)
			}
		}
		if strings.Contains(out.String(), "unknown-tracker.example") {
			t.Errorf("%s:%d: the unnamed tracker stayed: the test does not unclassify", ex.File, ex.Line)
		}
	}
	if n == 0 {
		t.Fatal("no necessary example in testdata/vendors/necessary.txt or extra.txt")
	}
}
