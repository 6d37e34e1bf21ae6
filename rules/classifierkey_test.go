package rules

import (
	"bytes"
	"testing"
)

// TestClassifierAppendKey: every setting of a Classifier that changes its verdicts
// changes its key, and a Reset page has the key of a new one.
func TestClassifierAppendKey(t *testing.T) {
	rs := Default()
	analytics, _ := rs.CategoryByID("analytics")
	vendors := make(VendorSet, 2)
	vendors[0] = 1 << 3
	base := rs.NewClassifier(testPage, 0).AppendKey(nil)
	for name, set := range map[string]func(p *Classifier){
		"granted":      func(p *Classifier) { p.Reset(rs, testPage, Set(0).With(analytics)) },
		"url":          func(p *Classifier) { p.Reset(rs, testPage+"x", 0) },
		"refused":      func(p *Classifier) { p.RefuseVendors(vendors) },
		"exempt":       func(p *Classifier) { p.Exempt(vendors) },
		"never defer":  func(p *Classifier) { p.NeverDefer(Set(0).With(analytics)) },
		"unclassified": func(p *Classifier) { p.Unclassify(analytics) },
	} {
		p := rs.NewClassifier(testPage, 0)
		set(p)
		if bytes.Equal(p.AppendKey(nil), base) {
			t.Errorf("%s: same key", name)
		}
		p.Reset(rs, testPage, 0)
		if !bytes.Equal(p.AppendKey(nil), base) {
			t.Errorf("%s, then Reset: another key", name)
		}
	}
	// A set with trailing zero words is the same set.
	p := rs.NewClassifier(testPage, 0)
	p.RefuseVendors(make(VendorSet, 3))
	if !bytes.Equal(p.AppendKey(nil), base) {
		t.Error("an empty vendor set changes the key")
	}
}
