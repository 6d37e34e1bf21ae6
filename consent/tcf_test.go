package consent

import (
	"slices"
	"strings"
	"testing"

	"github.com/consentedge/consentedge/rules"
)

// TC strings encoded by IAB Tech Lab's reference library, @iabtcf/core 1.x
// (TCModel + SegmentEncoder, core segment), with the fields listed beside
// each: an independent encoder for our decoder. CMP 10 version 2, vendor
// list 150, policy version 4, service-specific, publisher country DE.
var tcVectors = []struct {
	name, s     string
	purposes    []int
	li          []int
	vendors     []int // spot checks of vendor consent (true)
	notVendors  []int // spot checks (false)
	vendorLI755 bool
	features    uint16
	cc          string
	cmp         int
}{
	{"accept all", "CQtAQoAQtDjkAAKACAENCWEsAP_gAAAAAAYgF5wAoAAgAUAvMAAAAAAA",
		[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, nil, []int{1, 5, 10, 755}, []int{11, 754, 756}, false, 0b11, "DE", 10},
	{"reject all", "CQtAQoAQtDjkAAKACAENCWEgAAAAAAAAAAYgAAAAAAAA",
		nil, nil, nil, []int{1, 755}, false, 0, "DE", 10},
	{"analytics only", "CQtAQoAQtDjkAAKACAENCWEgAIPAAAAAAAYgF5wAQF5gAAAA",
		[]int{1, 7, 8, 9, 10}, nil, []int{755}, []int{1}, false, 0, "DE", 10},
	{"no storage", "CQtAQoAQtDjkAAKACAENCWEgAHPAAAAAAAYgF5wAQF5gAAAA",
		[]int{2, 3, 4, 7, 8, 9, 10}, nil, []int{755}, nil, false, 0, "DE", 10},
	{"ads partial, legitimate interests", "CQtAQoAQtDjkAAKACAENCWEgAOPAAEIAAAYgF5wAwAAgEsAXmBecAEBeYAAA",
		[]int{1, 2, 3, 7, 8, 9, 10}, []int{2, 7}, []int{1, 300, 755}, []int{2, 299}, true, 0, "DE", 10},
	{"range-encoded vendors", "CQtAQoAQtDjkAAKACAENCWEgAPAAAAAAAAYgH0QAoAyAY-A-gAAAAAAA",
		[]int{1, 2, 3, 4}, nil, []int{100, 500, 755, 799, 1000}, []int{99, 800, 999, 1001}, false, 0, "DE", 10},
	{"functional", "CQtAQoAQtDjkAEsACAENCWEgAIwgAAAAAAqIAAAAAAAA",
		[]int{1, 5, 6, 11}, nil, nil, []int{755}, false, 0, "FR", 300},
}

func TestParseTCString(t *testing.T) {
	for _, tt := range tcVectors {
		for _, s := range []string{tt.s, tt.s + ".YAAAAAAAAAAA", tt.s + "=="[:(4-len(tt.s)%4)%4]} {
			tc, err := ParseTCString(s)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			var purposes, li []int
			for p := 1; p <= 24; p++ {
				if tc.Purpose(p) {
					purposes = append(purposes, p)
				}
				if tc.PurposesLI&(1<<(p-1)) != 0 {
					li = append(li, p)
				}
			}
			if !slices.Equal(purposes, tt.purposes) || !slices.Equal(li, tt.li) {
				t.Errorf("%s: purposes %v li %v, want %v %v", tt.name, purposes, li, tt.purposes, tt.li)
			}
			for _, v := range tt.vendors {
				if !tc.VendorConsent(v) {
					t.Errorf("%s: vendor %d not consented", tt.name, v)
				}
			}
			for _, v := range tt.notVendors {
				if tc.VendorConsent(v) {
					t.Errorf("%s: vendor %d consented", tt.name, v)
				}
			}
			if tc.VendorLI(755) != tt.vendorLI755 || tc.SpecialFeatures != tt.features || tc.PublisherCC != tt.cc ||
				tc.CmpID != tt.cmp || tc.CmpVersion != 2 || tc.VendorListVersion != 150 || tc.TcfPolicyVersion != 4 || !tc.IsServiceSpecific {
				t.Errorf("%s: %+v", tt.name, tc)
			}
		}
	}
}

func TestParseTCStringMalformed(t *testing.T) {
	good := tcVectors[0].s
	for _, s := range []string{
		"",
		"BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA", // a TCF v1 string: version 1
		good[:20],                             // truncated in the core fields
		good[:len(good)-6],                    // truncated in the vendor sections
		"CQtAQoAQtDjkAAKACAENCWEsAP_gAAAAAAYgF5wAoAAgAUAvMAAAAAAA!",
		"CQtAQoAQtDjkAAKACAENCWEsAP/gAAAAAAYgF5wAoAAgAUAvMAAAAAAA", // standard, not URL-safe, base64
		strings.Repeat("C", maxTCString+1),
	} {
		if tc, err := ParseTCString(s); err == nil {
			t.Errorf("ParseTCString(%.40q) = %+v, want an error", s, tc)
		}
	}
}

func TestTCFCategories(t *testing.T) {
	for _, tt := range []struct {
		vector      int
		grant, deny rules.Set
	}{
		{0, rules.Set(0).With(rules.Analytics).With(rules.Advertising).With(rules.Functional), 0},
		{1, 0, rules.Set(0).With(rules.Analytics).With(rules.Advertising).With(rules.Functional)},
		{2, rules.Set(0).With(rules.Analytics), rules.Set(0).With(rules.Advertising).With(rules.Functional)},
		{3, 0, rules.Set(0).With(rules.Analytics).With(rules.Advertising).With(rules.Functional)},            // no purpose 1: nothing
		{4, rules.Set(0).With(rules.Analytics), rules.Set(0).With(rules.Advertising).With(rules.Functional)}, // purpose 4 missing
		{6, rules.Set(0).With(rules.Functional), rules.Set(0).With(rules.Analytics).With(rules.Advertising)},
	} {
		tc, err := ParseTCString(tcVectors[tt.vector].s)
		if err != nil {
			t.Fatal(err)
		}
		if g, d := tcfStated(tc); g != tt.grant || d != tt.deny {
			t.Errorf("%s: grant %b deny %b, want %b %b", tcVectors[tt.vector].name, g, d, tt.grant, tt.deny)
		}
	}
}

func FuzzTCString(f *testing.F) {
	for _, v := range tcVectors {
		f.Add(v.s)
	}
	f.Add("CQtAQoAQtDjkAAKACAENCWEgAPAAAAAAAAYgH0QAoAyAY-A-gAAAAAAA.YAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		tc, err := ParseTCString(s)
		if err != nil {
			return
		}
		for id := -1; id < 70000; id += 997 {
			tc.VendorConsent(id)
			tc.VendorLI(id)
		}
		g, d := tcfStated(tc)
		if g&d != 0 || g|d != rules.Set(0).With(rules.Analytics).With(rules.Advertising).With(rules.Functional) {
			t.Fatalf("%q: grant %b deny %b", s, g, d)
		}
	})
}
